package councildemo

import (
	"math/rand/v2"

	"promiseledger/domain"
)

// topic is what a council works on, and what its recommendations are
// about; the slug is the recommendation's topic link.
type topic struct {
	slug   string
	name   domain.Text
	body   string // the ministry its recommendations go to, when not the akimat
	titles []domain.Text
}

func t3(kk, ru, en string) domain.Text { return domain.Text{KK: kk, RU: ru, EN: en} }

// topics follow the recommendations the source documents name (business
// barriers, public procurement, prices of socially significant food) and
// the usual fields of local programs.
var topics = []topic{
	{"business_barriers", t3("Бизнес кедергілері", "Барьеры для бизнеса", "Business barriers"), "ministry-of-national-economy", []domain.Text{
		t3("Рұқсат беру рәсімдерін қысқарту", "Сократить разрешительные процедуры", "Cut permit procedures"),
		t3("Шағын бизнеске тексерулерді азайту", "Снизить число проверок малого бизнеса", "Fewer inspections of small businesses"),
	}},
	{"public_procurement", t3("Мемлекеттік сатып алу", "Государственные закупки", "Public procurement"), "ministry-of-finance", []domain.Text{
		t3("Конкурс нәтижелерін ашық жариялау", "Открыто публиковать итоги конкурсов", "Publish tender results openly"),
		t3("Демпингке қарсы шектеу енгізу", "Ввести ограничение демпинга", "Limit dumping in tenders"),
	}},
	{"food_prices", t3("Әлеуметтік маңызы бар азық-түлік бағасы", "Цены на социально значимые продукты", "Prices of socially significant food"), "ministry-of-trade-and-integration", []domain.Text{
		t3("Тұрақтандыру қорын толықтыру", "Пополнить стабилизационный фонд", "Replenish the stabilisation fund"),
		t3("Апта сайын бағаларды жариялау", "Еженедельно публиковать цены", "Publish prices every week"),
	}},
	{"youth", t3("Жастар саясаты", "Молодёжная политика", "Youth policy"), "ministry-of-information-and-social-development", []domain.Text{
		t3("Жастарға арналған жалдамалы тұрғын үй", "Арендное жильё для молодёжи", "Rental housing for young people"),
		t3("Жастар ресурстық орталығын ашу", "Открыть молодёжный ресурсный центр", "Open a youth resource centre"),
	}},
	{"healthcare", t3("Денсаулық сақтау", "Здравоохранение", "Healthcare"), "ministry-of-healthcare", []domain.Text{
		t3("Ауылдық амбулаторияларды жабдықтау", "Оснастить сельские амбулатории", "Equip rural outpatient clinics"),
		t3("Дәрігерге жазылу кезегін қысқарту", "Сократить очередь к врачам", "Shorten waiting lists for doctors"),
	}},
	{"education", t3("Білім беру", "Образование", "Education"), "ministry-of-education-and-science", []domain.Text{
		t3("Үш ауысымды мектептерді жою", "Ликвидировать трёхсменные школы", "End three-shift schools"),
		t3("Балабақшадағы орын тапшылығын жою", "Устранить дефицит мест в детсадах", "Close the shortage of kindergarten places"),
	}},
	{"housing", t3("Тұрғын үй-коммуналдық шаруашылық", "Жилищно-коммунальное хозяйство", "Housing and utilities"), "ministry-of-industry-and-infrastructure", []domain.Text{
		t3("Тозған жылу желілерін ауыстыру", "Заменить изношенные тепловые сети", "Replace worn-out heating networks"),
		t3("Тарифтерді негіздеуді жариялау", "Публиковать обоснование тарифов", "Publish the grounds of utility tariffs"),
	}},
	{"roads", t3("Жолдар және көлік", "Дороги и транспорт", "Roads and transport"), "ministry-of-industry-and-infrastructure", []domain.Text{
		t3("Аудандық жолдарды жөндеу кестесі", "График ремонта районных дорог", "A schedule for repairing district roads"),
		t3("Ауылдарға автобус қатынасы", "Автобусное сообщение с сёлами", "Bus services to villages"),
	}},
	{"environment", t3("Экология", "Экология", "Environment"), "ministry-of-ecology", []domain.Text{
		t3("Заңсыз қоқыс үйінділерін жою", "Ликвидировать стихийные свалки", "Clear illegal dumps"),
		t3("Ауа сапасын бақылау бекеттері", "Посты контроля качества воздуха", "Air quality monitoring posts"),
	}},
	{"agriculture", t3("Ауыл шаруашылығы", "Сельское хозяйство", "Agriculture"), "ministry-of-agriculture", []domain.Text{
		t3("Жайылымдарды қайтару", "Вернуть пастбища сельчанам", "Return pastures to villagers"),
		t3("Субсидия төлеуді жеделдету", "Ускорить выплату субсидий", "Pay subsidies faster"),
	}},
	{"social_protection", t3("Әлеуметтік қорғау", "Социальная защита", "Social protection"), "ministry-of-labour-and-social-protection", []domain.Text{
		t3("Атаулы көмекті тағайындауды жеңілдету", "Упростить назначение адресной помощи", "Simplify targeted social assistance"),
		t3("Мүгедектігі бар адамдарға пандустар", "Пандусы для людей с инвалидностью", "Ramps for people with disabilities"),
	}},
	{"anti_corruption", t3("Сыбайлас жемқорлыққа қарсы іс-қимыл", "Противодействие коррупции", "Anti-corruption"), "anti-corruption-agency", []domain.Text{
		t3("Жер учаскелерін онлайн аукционға шығару", "Выставлять земельные участки на онлайн-аукцион", "Auction land plots online"),
		t3("Әкімдік шешімдерін ашық жариялау", "Публиковать решения акимата", "Publish the akimat's decisions"),
	}},
}

// ministries names the state bodies recommendations go to besides
// akimats.
var ministries = map[string]domain.Text{
	"ministry-of-national-economy":                   t3("ҚР Ұлттық экономика министрлігі", "Министерство национальной экономики РК", "Ministry of National Economy"),
	"ministry-of-finance":                            t3("ҚР Қаржы министрлігі", "Министерство финансов РК", "Ministry of Finance"),
	"ministry-of-trade-and-integration":              t3("ҚР Сауда және интеграция министрлігі", "Министерство торговли и интеграции РК", "Ministry of Trade and Integration"),
	"ministry-of-information-and-social-development": t3("ҚР Ақпарат және қоғамдық даму министрлігі", "Министерство информации и общественного развития РК", "Ministry of Information and Social Development"),
	"ministry-of-healthcare":                         t3("ҚР Денсаулық сақтау министрлігі", "Министерство здравоохранения РК", "Ministry of Healthcare"),
	"ministry-of-education-and-science":              t3("ҚР Білім және ғылым министрлігі", "Министерство образования и науки РК", "Ministry of Education and Science"),
	"ministry-of-industry-and-infrastructure":        t3("ҚР Индустрия және инфрақұрылымдық даму министрлігі", "Министерство индустрии и инфраструктурного развития РК", "Ministry of Industry and Infrastructure Development"),
	"ministry-of-ecology":                            t3("ҚР Экология, геология және табиғи ресурстар министрлігі", "Министерство экологии, геологии и природных ресурсов РК", "Ministry of Ecology, Geology and Natural Resources"),
	"ministry-of-agriculture":                        t3("ҚР Ауыл шаруашылығы министрлігі", "Министерство сельского хозяйства РК", "Ministry of Agriculture"),
	"ministry-of-labour-and-social-protection":       t3("ҚР Еңбек және халықты әлеуметтік қорғау министрлігі", "Министерство труда и социальной защиты населения РК", "Ministry of Labour and Social Protection"),
	"anti-corruption-agency":                         t3("ҚР Сыбайлас жемқорлыққа қарсы іс-қимыл агенттігі", "Агентство РК по противодействию коррупции", "Anti-Corruption Agency"),
}

// Council members are named by a given name and an initial: they name no
// real person. (Deputies are the roadmap demo's, with full names.)
var (
	givenNames = []string{
		"Айгерим", "Гульнара", "Динара", "Жанар", "Сауле", "Алия", "Асель", "Мадина", "Айжан", "Назерке",
		"Ерлан", "Нурлан", "Асхат", "Бауыржан", "Даурен", "Ержан", "Серик", "Марат", "Арман", "Айдос",
		"Дастан", "Канат", "Жандос", "Талгат", "Мухтар", "Рустем", "Азамат", "Салтанат", "Меруерт", "Шынар",
	}
	initials = []string{"А.", "Б.", "Ж.", "Е.", "К.", "М.", "Н.", "О.", "С.", "Т.", "У.", "Ш."}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// memberName is a council member's public display name: a given name and
// an initial.
func memberName(r *rand.Rand) string { return pick(r, givenNames) + " " + pick(r, initials) }

var (
	leaveReasons = []string{"resigned from the council", "moved to another district", "elected to a maslikhat", "term of membership ended"}
	dissents     = []string{
		"The recommendation asks for too little: the problem needs a budget line, not a plan.",
		"The council should have heard the entrepreneurs before adopting this.",
		"The deadline proposed to the akimat is unrealistic.",
	}
	replies = map[domain.AnswerDecision][]string{
		domain.DecisionAccepted:          {"The recommendation is accepted; measures are included in the action plan.", "Accepted: the work starts this quarter."},
		domain.DecisionPartiallyAccepted: {"Accepted in part: the budget covers the first stage only.", "Partly accepted; the rest is considered for next year's budget."},
		domain.DecisionRejected:          {"Not accepted: the matter is outside our powers.", "Rejected: the current rules already provide for this."},
	}
)

// Assessments and replies are written in Russian, like the roadmaps'
// reasons and evidence (package demo). They are invented.
var (
	agreeComments = []string{
		"Совет изучил отчёт и подтверждающие документы: сведения соответствуют действительности.",
		"Члены совета выехали на объект: ход работ соответствует отчёту.",
		"Сведения отчёта подтверждены обращениями жителей и данными акимата.",
		"Совет согласен с отчётом; просит публиковать фотоотчёты ежеквартально.",
	}
	disputeComments = []string{
		"Сведения отчёта не подтвердились при выезде членов совета на объект: работы не завершены.",
		"Подтверждающий документ не содержит данных о фактическом выполнении мероприятия.",
		"Жители сообщают, что объект не работает; совет не согласен с отчётом.",
		"Объём выполненных работ завышен: по данным совета выполнено не более половины.",
		"Акт приёмки подписан с замечаниями, которые не устранены; совет считает мероприятие не выполненным.",
	}
	withdrawReasons = []string{
		"Совет получил дополнительные документы, снимающие вопрос",
		"Оценка внесена ошибочно: относится к другому мероприятию",
	}
	disputeReplies = []string{
		"Замечания совета приняты: подрядчику направлено требование устранить недостатки до конца квартала.",
		"Не согласен с оценкой совета: работы завершены, акт приёмки подписан комиссией, копия прилагается.",
		"Вопрос поднят на сессии маслихата; акимату поручено представить уточнённый отчёт.",
		"Выезд на объект с членами совета проведён повторно; по итогам отчёт будет скорректирован.",
		"Замечания переданы в профильное управление акимата; ответ будет опубликован по мере готовности.",
	}
	agreeReplies = []string{
		"Благодарю совет за проверку; работа по мероприятию продолжается.",
		"Оценка совета учтена; следующий отчёт будет дополнен фотоматериалами.",
		"Спасибо за внимание к мероприятию: предложения совета включены в план на следующий год.",
	}
	replyEvidence = []string{
		"Акт приёмки выполненных работ",
		"Письмо профильного управления акимата",
		"Протокол выездного совещания",
	}
)
