package domain

import (
	"errors"
	"strings"
	"testing"
)

// TestEveryEventTypeHasStoredEventRules: a new event type cannot reach the
// projectors without the shape check DecodeStored runs.
func TestEveryEventTypeHasStoredEventRules(t *testing.T) {
	for typ, decode := range decoders {
		e, err := decode([]byte(`{}`))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var v validator
		if _, known := checkStored(&v, e); !known {
			t.Errorf("%s has no stored-event rules in checkStored", typ)
		}
	}
}

const storedMeta = `{"event_id":"6f1c0c38-8d8e-4bb4-9b1e-2b1f7f2b8a01","actor_id":"admin","effective_at":"2021-01-01T00:00:00Z","recorded_at":"2021-01-01T00:00:00Z"}`

func TestDecodeStoredRefusesBrokenShapes(t *testing.T) {
	const program = "6f1c0c38-8d8e-4bb4-9b1e-2b1f7f2b8a02"
	valid := `{"program_id":"` + program + `","name":{"kk":"a","ru":"a","en":"a"},"kind":"main","period":{"start":"2021-01-01","end":"2025-12-31"}}`
	for _, c := range []struct {
		name, stream, typ, data, meta string
		field                         string // "" when valid
	}{
		{"a valid event", ProgramStream(program), TypeProgramRegistered, valid, storedMeta, ""},
		{"hostile free text is not a shape problem", ProgramStream(program), TypeProgramRegistered,
			strings.Replace(valid, `"kk":"a"`, `"kk":"a\u0000\u202e"`, 1), storedMeta, ""},
		{"an empty program", "program-", TypeProgramRegistered, `{}`, storedMeta, "program_id"},
		{"an unknown kind", ProgramStream(program), TypeProgramRegistered, strings.Replace(valid, `"main"`, `"banana"`, 1), storedMeta, "kind"},
		{"the wrong stream", ProgramStream("6f1c0c38-8d8e-4bb4-9b1e-2b1f7f2b8a03"), TypeProgramRegistered, valid, storedMeta, "stream"},
		{"no event id", ProgramStream(program), TypeProgramRegistered, valid, `{"actor_id":"a","recorded_at":"2021-01-01T00:00:00Z"}`, "metadata.event_id"},
		{"no recorded time", ProgramStream(program), TypeProgramRegistered, valid, `{"event_id":"6f1c0c38-8d8e-4bb4-9b1e-2b1f7f2b8a01"}`, "metadata.recorded_at"},
		{"a status nobody knows", IndicatorStream(program), TypeIndicatorStatusChanged, `{"indicator_id":"` + program + `","to":"sideways"}`, storedMeta, "to"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeStored(c.stream, c.typ, []byte(c.data), []byte(c.meta))
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused a valid event: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidStoredEvent) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("err = %v, want ErrInvalidStoredEvent naming %s", err, c.field)
			}
		})
	}
}
