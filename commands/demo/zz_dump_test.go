package demo_test

import (
	"fmt"
	"strings"
	"testing"

	"promiseledger/commands/demo"
)

func TestDump(t *testing.T) {
	store, _ := load(t, demo.Config{Seed: 1, Now: now})
	recs := readAll(t, store)
	byStream := map[string][]string{}
	var order []string
	for _, r := range recs {
		if _, ok := byStream[r.Stream]; !ok { order = append(order, r.Stream) }
		byStream[r.Stream] = append(byStream[r.Stream], fmt.Sprintf("%s %s\n      %s", r.Type, r.Data, r.Metadata))
	}
	shown := map[string]int{}
	for _, s := range order {
		evs := byStream[s]
		all := strings.Join(evs, "\n")
		key := ""
		switch {
		case strings.HasPrefix(s, "program-"), strings.HasPrefix(s, "territory-0"): key = s
		case strings.HasPrefix(s, "roadmap-") : key = "roadmap"
		case strings.Contains(all, "Объект не принят") || strings.Contains(all, "Выполнение не подтверждено") || strings.Contains(all, "Отчёт о завершении"): key = "falsedone"
		case strings.Contains(all, "Выявлены недостатки") || strings.Contains(all, "Обращения жителей"): key = "reopen"
		case strings.Contains(all, "\"target\"") && strings.Contains(all, "retargeted"): key = "raise"
		case strings.Contains(all, "cancelled.v1"): key = "cancel"
		case strings.Contains(all, "Принято комиссией") || strings.Contains(all, "Признано выполненным"): key = "accept"
		}
		if key == "" || shown[key] >= 1 { continue }
		shown[key]++
		fmt.Println("=====", key, s)
		for _, e := range evs { if len(e) > 900 { e = e[:900] }; fmt.Println("  ", e) }
	}
}
