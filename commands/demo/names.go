package demo

import (
	"math/rand/v2"
)

// The people of the demo are generated from these lists: common Kazakh
// given names and surnames, combined at random. They name no real person;
// a chance match with someone's name is only that.
var (
	maleNames = []string{
		"Ерлан", "Нурлан", "Асхат", "Бауыржан", "Даурен", "Ержан", "Серик", "Марат", "Арман", "Айдос",
		"Дастан", "Канат", "Жандос", "Ерболат", "Талгат", "Мухтар", "Рустем", "Азамат", "Бахытжан", "Нуржан",
		"Ербол", "Самат", "Олжас", "Темирлан", "Габит",
	}
	femaleNames = []string{
		"Айгерим", "Гульнара", "Динара", "Жанар", "Сауле", "Алия", "Асель", "Мадина", "Айжан", "Гульмира",
		"Жулдыз", "Камила", "Назерке", "Ботагоз", "Салтанат", "Айнур", "Меруерт", "Шынар", "Лаура", "Карлыгаш",
	}
	// surnames are in the masculine form; the feminine adds "а".
	surnames = []string{
		"Ахметов", "Абдрахманов", "Жумабаев", "Сейткалиев", "Тулегенов", "Нурпеисов", "Касымов", "Омаров",
		"Искаков", "Бекмухамбетов", "Сарсенбаев", "Ермеков", "Жакупов", "Утегенов", "Мусин", "Калиев",
		"Байжанов", "Серикбаев", "Есенов", "Кенжебеков", "Амиров", "Турсунов", "Абишев", "Мукашев",
		"Тлеубердин", "Садыков", "Жаксылыков", "Оспанов", "Рахимов", "Шайкенов",
	}
)

// person is someone answerable for a roadmap or an indicator.
type person struct {
	id   string // opaque person id, e.g. deputy-111000000-07
	name string // display name
}

// personName makes a plausible name: given name and surname.
func personName(r *rand.Rand) string {
	surname := pick(r, surnames)
	if chance(r, 0.4) { // a mix of women and men; the share is a guess, not a statistic
		return pick(r, femaleNames) + " " + surname + "а"
	}
	return pick(r, maleNames) + " " + surname
}
