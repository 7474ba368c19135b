package demo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"promiseledger/domain"
)

// shape is how a measure template turns into an indicator.
type shape uint8

const (
	// count: "Build N schools"; a milestone, or numeric from 0 to N.
	count shape = iota
	// rate: "Cut the kindergarten waiting list"; numeric from a baseline
	// to a target, no number in the title.
	rate
	// once: "Open a business support centre"; a milestone.
	once
)

// measure is a template of a plausible roadmap measure in three languages.
type measure struct {
	shape shape
	// kk, ru and en are the title. A count's titles take the number (%d)
	// and, in ru and en, the noun in the form the number needs (%s).
	kk, ru, en string
	ruForms    [3]string // forms after 1, 2–4 and 5 or more (as in 21, 22, 25)
	enForms    [2]string // singular, plural
	unit       domain.Text
	// lo and hi bound N (count) or the baseline (rate) for a district.
	lo, hi float64
	// perUnit: N (or a rate's baseline) grows with the size of the
	// territory; percentages do not.
	perUnit bool
	// rate only: the target lies delta (drawn from [dlo, dhi], or that
	// share of the baseline when relative) from the baseline, in the
	// direction decrease says, and within [0, 100] for percentages.
	decrease bool
	relative bool
	dlo, dhi float64
	quantum  float64 // the step of readings: 1 for counts, 0.1 for percentages
}

var (
	unitKm      = domain.Text{KK: "шақырым", RU: "км", EN: "km"}
	unitPercent = domain.Text{KK: "%", RU: "%", EN: "%"}
	unitVillage = domain.Text{KK: "ауыл", RU: "сёл", EN: "villages"}
)

// measures is the template table. The Kazakh and Russian wording follows
// the style of published local roadmaps; the numbers are invented.
var measures = []measure{
	{shape: count, kk: "%d мектеп салу", ru: "Построить %d %s", en: "Build %d %s",
		ruForms: [3]string{"школу", "школы", "школ"}, enForms: [2]string{"school", "schools"},
		unit: domain.Text{KK: "мектеп", RU: "школ", EN: "schools"}, lo: 1, hi: 3, perUnit: true},
	{shape: count, kk: "%d км жергілікті жолды жөндеу", ru: "Отремонтировать %d км местных дорог", en: "Repair %d km of local roads",
		unit: unitKm, lo: 5, hi: 60, perUnit: true},
	{shape: count, kk: "%d ауылды газдандыру", ru: "Газифицировать %d %s", en: "Connect %d %s to the gas network",
		ruForms: [3]string{"село", "села", "сёл"}, enForms: [2]string{"village", "villages"},
		unit: unitVillage, lo: 1, hi: 8, perUnit: true},
	{shape: count, kk: "%d жастар орталығын ашу", ru: "Открыть %d %s", en: "Open %d %s",
		ruForms: [3]string{"молодёжный центр", "молодёжных центра", "молодёжных центров"}, enForms: [2]string{"youth centre", "youth centres"},
		unit: domain.Text{KK: "орталық", RU: "центров", EN: "centres"}, lo: 1, hi: 2, perUnit: true},
	{shape: count, kk: "%d балабақша салу", ru: "Построить %d %s", en: "Build %d %s",
		ruForms: [3]string{"детский сад", "детских сада", "детских садов"}, enForms: [2]string{"kindergarten", "kindergartens"},
		unit: domain.Text{KK: "балабақша", RU: "детских садов", EN: "kindergartens"}, lo: 1, hi: 3, perUnit: true},
	{shape: count, kk: "%d ауылды таза ауыз сумен қамтамасыз ету", ru: "Обеспечить чистой питьевой водой %d %s", en: "Supply clean drinking water to %d %s",
		ruForms: [3]string{"село", "села", "сёл"}, enForms: [2]string{"village", "villages"},
		unit: unitVillage, lo: 1, hi: 10, perUnit: true},
	{shape: count, kk: "%d жалға берілетін пәтер салу", ru: "Построить %d %s", en: "Build %d %s",
		ruForms: [3]string{"арендную квартиру", "арендные квартиры", "арендных квартир"}, enForms: [2]string{"rental flat", "rental flats"},
		unit: domain.Text{KK: "пәтер", RU: "квартир", EN: "flats"}, lo: 20, hi: 200, perUnit: true},
	{shape: count, kk: "%d жаңа жұмыс орнын ашу", ru: "Создать %d %s", en: "Create %d new %s",
		ruForms: [3]string{"новое рабочее место", "новых рабочих места", "новых рабочих мест"}, enForms: [2]string{"job", "jobs"},
		unit: domain.Text{KK: "жұмыс орны", RU: "рабочих мест", EN: "jobs"}, lo: 50, hi: 800, perUnit: true},
	{shape: count, kk: "%d дәрігерлік амбулатория салу", ru: "Построить %d %s", en: "Build %d rural %s",
		ruForms: [3]string{"врачебную амбулаторию", "врачебные амбулатории", "врачебных амбулаторий"}, enForms: [2]string{"outpatient clinic", "outpatient clinics"},
		unit: domain.Text{KK: "амбулатория", RU: "амбулаторий", EN: "clinics"}, lo: 1, hi: 3, perUnit: true},
	{shape: count, kk: "%d км көшеге жарық орнату", ru: "Провести уличное освещение на %d км улиц", en: "Install street lighting along %d km of streets",
		unit: unitKm, lo: 3, hi: 40, perUnit: true},
	{shape: count, kk: "%d спорт алаңын салу", ru: "Построить %d %s", en: "Build %d %s",
		ruForms: [3]string{"спортивную площадку", "спортивные площадки", "спортивных площадок"}, enForms: [2]string{"sports ground", "sports grounds"},
		unit: domain.Text{KK: "алаң", RU: "площадок", EN: "grounds"}, lo: 2, hi: 10, perUnit: true},
	{shape: count, kk: "%d ағаш отырғызу", ru: "Высадить %d %s", en: "Plant %d %s",
		ruForms: [3]string{"дерево", "дерева", "деревьев"}, enForms: [2]string{"tree", "trees"},
		unit: domain.Text{KK: "ағаш", RU: "деревьев", EN: "trees"}, lo: 1000, hi: 20000, perUnit: true},
	{shape: count, kk: "%d км сумен жабдықтау желісін қайта жаңарту", ru: "Реконструировать %d км сетей водоснабжения", en: "Rebuild %d km of water mains",
		unit: unitKm, lo: 2, hi: 30, perUnit: true},
	{shape: count, kk: "Жас кәсіпкерлерге %d грант беру", ru: "Выдать %d %s молодым предпринимателям", en: "Award %d %s to young entrepreneurs",
		ruForms: [3]string{"грант", "гранта", "грантов"}, enForms: [2]string{"grant", "grants"},
		unit: domain.Text{KK: "грант", RU: "грантов", EN: "grants"}, lo: 10, hi: 150, perUnit: true},
	{shape: count, kk: "%d ауланы абаттандыру", ru: "Благоустроить %d %s", en: "Landscape %d %s",
		ruForms: [3]string{"двор", "двора", "дворов"}, enForms: [2]string{"courtyard", "courtyards"},
		unit: domain.Text{KK: "аула", RU: "дворов", EN: "courtyards"}, lo: 5, hi: 60, perUnit: true},
	{shape: count, kk: "%d мектепке күрделі жөндеу жүргізу", ru: "Провести капитальный ремонт %d %s", en: "Carry out major repairs at %d %s",
		ruForms: [3]string{"школы", "школ", "школ"}, enForms: [2]string{"school", "schools"},
		unit: domain.Text{KK: "мектеп", RU: "школ", EN: "schools"}, lo: 1, hi: 6, perUnit: true},
	{shape: count, kk: "Апатты үйлерден %d отбасын көшіру", ru: "Переселить %d %s из аварийного жилья", en: "Rehouse %d %s from unsafe housing",
		ruForms: [3]string{"семью", "семьи", "семей"}, enForms: [2]string{"family", "families"},
		unit: domain.Text{KK: "отбасы", RU: "семей", EN: "families"}, lo: 5, hi: 80, perUnit: true},
	{shape: count, kk: "%d ауылға тұрақты автобус қатынасын ашу", ru: "Открыть регулярное автобусное сообщение с %d %s", en: "Launch regular bus services to %d %s",
		ruForms: [3]string{"селом", "сёлами", "сёлами"}, enForms: [2]string{"village", "villages"},
		unit: unitVillage, lo: 1, hi: 8, perUnit: true},
	{shape: count, kk: "%d ауылды кең жолақты интернетке қосу", ru: "Подключить %d %s к широкополосному интернету", en: "Connect %d %s to broadband internet",
		ruForms: [3]string{"село", "села", "сёл"}, enForms: [2]string{"village", "villages"},
		unit: unitVillage, lo: 2, hi: 20, perUnit: true},

	{shape: rate, kk: "Балабақшаға кезекті қысқарту", ru: "Сократить очередь в детские сады", en: "Cut the kindergarten waiting list",
		unit: domain.Text{KK: "бала", RU: "детей", EN: "children"}, lo: 100, hi: 1500, perUnit: true,
		decrease: true, relative: true, dlo: 0.6, dhi: 0.9, quantum: 1},
	{shape: rate, kk: "Нашар жағдайдағы жергілікті жолдардың үлесін азайту", ru: "Снизить долю местных дорог в неудовлетворительном состоянии", en: "Reduce the share of local roads in poor condition",
		unit: unitPercent, lo: 25, hi: 45, decrease: true, dlo: 10, dhi: 20, quantum: 0.1},
	{shape: rate, kk: "Елді мекендерді газбен қамту деңгейін арттыру", ru: "Повысить уровень газификации населённых пунктов", en: "Raise the share of settlements with a gas supply",
		unit: unitPercent, lo: 20, hi: 55, dlo: 10, dhi: 25, quantum: 0.1},
	{shape: rate, kk: "Орталықтандырылған сумен жабдықтауға қолжетімділікті арттыру", ru: "Повысить доступ населения к централизованному водоснабжению", en: "Increase access to centralised water supply",
		unit: unitPercent, lo: 75, hi: 92, dlo: 4, dhi: 8, quantum: 0.1},
	{shape: rate, kk: "Жұмыспен де, оқумен де қамтылмаған жастардың үлесін азайту", ru: "Снизить долю молодёжи, которая не работает и не учится (NEET)", en: "Reduce the share of young people not in employment, education or training (NEET)",
		unit: unitPercent, lo: 8, hi: 14, decrease: true, dlo: 2, dhi: 5, quantum: 0.1},

	{shape: once, kk: "Кәсіпкерлікті қолдау орталығын ашу", ru: "Открыть центр поддержки предпринимательства", en: "Open a business support centre"},
	{shape: once, kk: "Елді мекеннің бас жоспарын әзірлеу және бекіту", ru: "Разработать и утвердить генеральный план населённого пункта", en: "Draw up and approve the settlement master plan"},
	{shape: once, kk: "Депутаттардың онлайн қабылдау бөлмесін іске қосу", ru: "Запустить онлайн-приёмную депутатов", en: "Launch an online reception office for deputies"},
	{shape: once, kk: "Орталық ауруханада перинаталдық бөлімше ашу", ru: "Открыть перинатальное отделение в центральной больнице", en: "Open a maternity unit at the central hospital"},
	{shape: once, kk: "Әлеуметтік маңызы бар азық-түлік бағасына мониторинг енгізу", ru: "Ввести мониторинг цен на социально значимые продукты питания", en: "Introduce price monitoring of socially significant foods"},
	{shape: once, kk: "Мемлекеттік сатып алу жоспарларын ашық жариялау", ru: "Открыто публиковать планы государственных закупок", en: "Publish public procurement plans openly"},
}

// capable lists the templates that can make an indicator of kind, by
// index into measures.
func capable(kind domain.IndicatorKind) []int {
	var out []int
	for i, m := range measures {
		switch {
		case kind == domain.KindNumeric && m.shape != once,
			kind == domain.KindMilestone && m.shape != rate:
			out = append(out, i)
		}
	}
	return out
}

// measureSpec is a template made concrete for one indicator.
type measureSpec struct {
	title    domain.Text
	baseline float64 // numeric only
	target   float64 // numeric only
	unit     domain.Text
	quantum  float64
}

// concrete draws the numbers of m for a territory of the given size
// (1 for a district) and writes the title.
func (m measure) concrete(r *rand.Rand, kind domain.IndicatorKind, size float64) measureSpec {
	switch m.shape {
	case count:
		n := max(1, int(math.Round(floatIn(r, m.lo, m.hi+1)*m.scale(size))))
		if m.hi >= 1000 {
			n = roundTo(n, 100)
		} else if m.hi >= 100 {
			n = roundTo(n, 5)
		}
		s := measureSpec{title: m.countTitle(n), quantum: 1}
		if kind == domain.KindNumeric {
			s.baseline, s.target, s.unit = 0, float64(n), m.unit
		}
		return s
	case rate:
		return m.rateSpec(r, size)
	}
	return measureSpec{title: domain.Text{KK: m.kk, RU: m.ru, EN: m.en}}
}

func (m measure) scale(size float64) float64 {
	if m.perUnit {
		return size
	}
	return 1
}

func roundTo(n, step int) int { return max(step, (n+step/2)/step*step) }

func (m measure) countTitle(n int) domain.Text {
	t := domain.Text{KK: fmt.Sprintf(m.kk, n)}
	if m.ruForms[0] == "" {
		t.RU, t.EN = fmt.Sprintf(m.ru, n), fmt.Sprintf(m.en, n)
		return t
	}
	t.RU = fmt.Sprintf(m.ru, n, ruPlural(n, m.ruForms))
	en := m.enForms[1]
	if n == 1 {
		en = m.enForms[0]
	}
	t.EN = fmt.Sprintf(m.en, n, en)
	return t
}

// ruPlural picks the Russian noun form a number needs: 1 and 21 take the
// first, 2–4 and 22–24 the second, the rest (11–14 included) the third.
func ruPlural(n int, forms [3]string) string {
	if n%100 >= 11 && n%100 <= 14 {
		return forms[2]
	}
	switch n % 10 {
	case 1:
		return forms[0]
	case 2, 3, 4:
		return forms[1]
	}
	return forms[2]
}

func (m measure) rateSpec(r *rand.Rand, size float64) measureSpec {
	q := m.quantum
	baseline := quantize(floatIn(r, m.lo, m.hi)*m.scale(size), q)
	delta := floatIn(r, m.dlo, m.dhi)
	if m.relative {
		delta *= baseline
	}
	delta = max(q, quantize(delta, q))
	target := baseline + delta
	if m.decrease {
		target = max(0, baseline-delta)
	}
	if m.unit == unitPercent {
		target = min(100, target)
	}
	target = quantize(target, q)
	return measureSpec{
		title:    domain.Text{KK: m.kk, RU: m.ru, EN: m.en},
		baseline: baseline, target: target, unit: m.unit, quantum: q,
	}
}

// quantize rounds x to a multiple of q, cleaning up the float noise.
func quantize(x, q float64) float64 {
	v := math.Round(x/q) * q
	return math.Round(v*10) / 10
}
