package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"promiseledger/domain"
)

// Reasons and evidence are written in Russian, the working language of the
// documents the ledger is modelled on. They are invented.
var (
	evidenceKinds = []string{
		"Акт приёмки выполненных работ",
		"Протокол заседания акимата",
		"Фотоотчёт с объекта",
		"Отчёт депутатской группы фракции",
		"Справка профильного управления акимата",
		"Заключение общественного совета",
		"Публикация на интернет-ресурсе акимата",
	}
	correctionReasons = []string{
		"Опечатка при вводе значения",
		"Уточнены данные по акту сверки с управлением",
		"Исправлена ссылка на подтверждающий документ",
		"Данные пересчитаны по итогам проверки общественного совета",
		"В отчёт ошибочно включены объекты другого мероприятия",
	}
	evidenceFixReasons = []string{
		"Приложен акт приёмки вместо фотоотчёта",
		"Исправлена ссылка на документ: прежняя не открывалась",
	}
	falseDoneReasons = []string{
		"Объект не принят комиссией: работы не завершены",
		"Выполнение не подтверждено при выезде депутатов на объект",
		"Отчёт о завершении подан до подписания акта ввода в эксплуатацию",
	}
	raiseReasons = []string{
		"Увеличено финансирование из местного бюджета",
		"Цель повышена по рекомендации общественного совета",
		"Дополнительные средства выделены при уточнении бюджета",
	}
	extensionReasons = []string{
		"Срок перенесён: удорожание строительных материалов",
		"Срок перенесён: подрядчик не завершил работы, договор расторгнут",
		"Срок перенесён решением маслихата при корректировке бюджета",
		"Срок перенесён: повторный конкурс по государственным закупкам",
	}
	weightReasons = []string{
		"Мероприятие признано приоритетным по итогам обращений граждан",
		"Вес изменён по решению фракции после обсуждения с общественным советом",
	}
	cancelReasons = []string{
		"Мероприятие исключено: дублирует республиканскую программу",
		"Объект передан в республиканскую собственность",
		"Исключено решением маслихата при корректировке бюджета",
		"Потребность отпала: проблема решена за счёт частных инвестиций",
		"Исключено по итогам общественного обсуждения: население поддержало другое решение",
	}
	startReasons = []string{
		"Утверждён план реализации мероприятия",
		"Начата реализация: выделено финансирование",
	}
	acceptReasons = []string{
		"Принято комиссией: достигнуто более 90% плана, остаток перенесён в программу следующего года",
		"Признано выполненным решением маслихата: цель скорректирована по факту потребности",
	}
	reopenReasons = []string{
		"Выявлены недостатки при проверке депутатами, работы возобновлены",
		"Обращения жителей: объект не работает, направлено на доработку",
	}
	suspendReasons = []string{
		"Работы приостановлены: расторгнут договор с подрядчиком",
		"Работы приостановлены до выделения финансирования",
	}
)

// evidence makes the evidence of a report about kato effective at eff: a
// link to a made-up document on a made-up site, the SHA-256 of the
// document's made-up text, or both.
func evidence(r *rand.Rand, kato string, eff time.Time) domain.Evidence {
	description := pick(r, evidenceKinds)
	doc := fmt.Sprintf("%s-%s-%04d", kato, eff.Format("20060102"), r.IntN(10000))
	ev := domain.Evidence{Description: description}
	switch x := r.IntN(10); {
	case x < 5:
		ev.URL, ev.SHA256 = documentURL(kato, eff, doc), documentHash(description, doc)
	case x < 8:
		ev.URL = documentURL(kato, eff, doc)
	default:
		ev.SHA256 = documentHash(description, doc)
	}
	return ev
}

func documentURL(kato string, eff time.Time, doc string) string {
	return fmt.Sprintf("https://roadmaps.example.kz/%s/%s/%s.pdf", kato, eff.Format("2006/01"), doc)
}

func documentHash(description, doc string) string {
	sum := sha256.Sum256([]byte(description + " № " + doc))
	return hex.EncodeToString(sum[:])
}
