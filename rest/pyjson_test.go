package rest

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPyJSONError holds pyJSONError to what Python 3.11's json.loads
// reports for each body (offset in characters, message), as printed by
// json.loads(body.encode()) raising JSONDecodeError (.pos, .msg).
func TestPyJSONError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body   string
		offset int
		msg    string
		ok     bool
	}{
		{"{\"title\": \"abc", 10, "Unterminated string starting at", true},
		{"{\"title\": \"x\"", 13, "Expecting ',' delimiter", true},
		{"{\"title\"", 8, "Expecting ':' delimiter", true},
		{"{", 1, "Expecting property name enclosed in double quotes", true},
		{"{\"title\": tru}", 10, "Expecting value", true},
		{"{\"a\": -}", 6, "Expecting value", true},
		{"{\"a\":\"\\x\"}", 6, "Invalid \\escape", true},
		{"{\"a\":\"\\u12\"}", 7, "Invalid \\uXXXX escape", true},
		{"{\"a\":\"\\u12G4\"}", 7, "Invalid \\uXXXX escape", true},
		{"{\"a\":\"\\ud800\\uZZ00\"}", 13, "Invalid \\uXXXX escape", true},
		{"{\"username\": \"x\",}", 17, "Expecting property name enclosed in double quotes", true},
		{"{\"username\": ", 13, "Expecting value", true},
		{"{\"username\":\"x\"} {}", 17, "Extra data", true},
		{"{\"username\":\"Łódź\" \"email\"}", 19, "Expecting ',' delimiter", true},
		{"[1,]", 3, "Expecting value", true},
		{"[1 2]", 3, "Expecting ',' delimiter", true},
		{"{\"a\" 1}", 5, "Expecting ':' delimiter", true},
		{"{\"a\":1 \"b\":2}", 7, "Expecting ',' delimiter", true},
		{"{\"a\":\n\t1,\n}", 10, "Expecting property name enclosed in double quotes", true},
		{"{\"a\":\"line\nbreak\"}", 10, "Invalid control character at", true},
		{"{\"a\": 01}", 7, "Expecting ',' delimiter", true},
		{"{\"a\": 1.}", 7, "Expecting ',' delimiter", true},
		{"{\"a\": 1e}", 7, "Expecting ',' delimiter", true},
		{"{\"a\": 1e+}", 7, "Expecting ',' delimiter", true},
		{"{\"a\": .5}", 6, "Expecting value", true},
		{"{\"a\": +1}", 6, "Expecting value", true},
		{"{\"a\": -0.5e-3x}", 13, "Expecting ',' delimiter", true},
		{"{\"a\": nul}", 6, "Expecting value", true},
		{"{\"a\": True}", 6, "Expecting value", true},
		{"{'a': 1}", 1, "Expecting property name enclosed in double quotes", true},
		{"   ", 3, "Expecting value", true},
		{"\"unterminated", 0, "Unterminated string starting at", true},
		{"tru", 0, "Expecting value", true},
		{"{\"a\":[1,[2,{\"b\":}]]}", 16, "Expecting value", true},
		{"{\"a\":\"\\", 5, "Unterminated string starting at", true},
		{"{\"é\":\"ü\" x}", 9, "Expecting ',' delimiter", true},
		{"{\"a\": \"😀\" x}", 10, "Expecting ',' delimiter", true},
		{"\t{\"a\": 1}\n x", 11, "Extra data", true},
		{"{\"a\": [}", 7, "Expecting value", true},
		{"{\"a\": {}", 8, "Expecting ',' delimiter", true},
		{"[", 1, "Expecting value", true},
		{"{\"a\":\"b\",", 9, "Expecting property name enclosed in double quotes", true},
		{"{\"a\":1,\"b\"", 10, "Expecting ':' delimiter", true},
		{"nulll", 4, "Extra data", true},
		{"{\"a\":-}", 5, "Expecting value", true},
		{"{\"a\":-x}", 5, "Expecting value", true},
		{"{\"a\":\"\\u00e9\" ,, }", 15, "Expecting property name enclosed in double quotes", true},
		{"1 2", 2, "Extra data", true},
		{"[] x", 3, "Extra data", true},
		{"{\"a\": NaN x}", 10, "Expecting ',' delimiter", true},
		{"{\"a\":\"\x01\"}", 6, "Invalid control character at", true},
		// Python reads these; Go does not (NaN), or they nest too deep to follow.
		{`{"a": NaN}`, 0, "", false},
		{`[-Infinity, Infinity]`, 0, "", false},
	} {
		offset, msg, ok := pyJSONError([]byte(c.body))
		if offset != c.offset || msg != c.msg || ok != c.ok {
			t.Errorf("%q: (%d, %q, %v), want (%d, %q, %v)", c.body, offset, msg, ok, c.offset, c.msg, c.ok)
		}
	}
}

func TestPyJSONErrorTooDeep(t *testing.T) {
	t.Parallel()
	body := strings.Repeat(`{"a":`, maxPyDepth+1) + "x"
	if _, _, ok := pyJSONError([]byte(body)); ok {
		t.Errorf("a body nested %d deep was followed", maxPyDepth+1)
	}
	body = strings.Repeat("[", maxPyDepth) + "x"
	if offset, msg, ok := pyJSONError([]byte(body)); !ok || offset != maxPyDepth || msg != "Expecting value" {
		t.Errorf("%d deep: (%d, %q, %v)", maxPyDepth, offset, msg, ok)
	}
}

// FuzzPyJSONError: any body that encoding/json accepts, Python accepts too,
// so pyJSONError must find no error in it; and it never panics on the rest.
func FuzzPyJSONError(f *testing.F) {
	for _, s := range []string{`{"title":"x","description":"d"}`, `[1,2.5e-3,"\u00e9",null,true]`, `{"a":`, `"\ud800"`, `{"a":"\x"}`, ` 1 `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) {
			return
		}
		offset, msg, ok := pyJSONError(body)
		if json.Valid(body) && ok {
			t.Fatalf("%q is JSON, but pyJSONError says (%d, %q)", body, offset, msg)
		}
		if ok && (offset < 0 || offset > utf8.RuneCount(body) || msg == "") {
			t.Fatalf("%q: (%d, %q)", body, offset, msg)
		}
	})
}

// TestPyNumber holds the echo of numbers to Python 3.11's repr of what
// json.loads made of them.
func TestPyNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"1E5": "100000.0", "1.50": "1.5", "0.00001": "1e-05", "0.0001": "0.0001", "1e16": "1e+16",
		"1.5e16": "1.5e+16", "1e15": "1000000000000000.0", "-0.0": "-0.0", "-0.5e-3": "-0.0005", "123": "123",
		"1e400": "1e400", "2.5e-7": "2.5e-07", "12345678901234567.0": "1.2345678901234568e+16", "0.1": "0.1",
		"1e-4": "0.0001", "100.0": "100.0", "-12345678901234567890": "-12345678901234567890",
	} {
		if got := pyNumber(json.Number(in)); string(got) != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
