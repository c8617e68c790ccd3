package rest

import "unicode/utf8"

// pyJSONError finds where Python's json.loads (CPython's C scanner, which
// FastAPI's request.json() runs) stops reading a body, and with which
// message: the two a json_invalid error carries. It reads s (valid UTF-8,
// BOM removed) as that scanner does, and returns the offset in characters.
// ok is false when Python would accept s: NaN, Infinity and -Infinity are
// JSON to Python but not to Go, and a body nested deeper than maxPyDepth is
// not checked here.
//
// It runs only for a body encoding/json refused, so it favours following
// CPython's code (Modules/_json.c, Lib/json/decoder.py) over speed.
func pyJSONError(s []byte) (offset int, msg string, ok bool) {
	p := pyScanner{s: s}
	i := p.ws(0)
	end, err := p.value(i, 0)
	if err == nil {
		if end = p.ws(end); end != len(s) {
			err = &pyError{end, "Extra data"}
		}
	}
	if err == nil || err.msg == "" {
		return 0, "", false
	}
	return utf8.RuneCount(s[:err.pos]), err.msg, true
}

// maxPyDepth bounds the nesting pyJSONError follows.
const maxPyDepth = 1000

type pyScanner struct{ s []byte }

// pyError is where and why the scanner stopped; an empty msg means it
// gave up (too deep).
type pyError struct {
	pos int
	msg string
}

func (p *pyScanner) ws(i int) int {
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t' || p.s[i] == '\n' || p.s[i] == '\r') {
		i++
	}
	return i
}

func (p *pyScanner) has(i int, lit string) bool {
	return len(p.s)-i >= len(lit) && string(p.s[i:i+len(lit)]) == lit
}

// value is scan_once: a value starting exactly at i, and where it ends. A
// value that cannot start at i is "Expecting value" at i (the StopIteration
// json.decoder turns into that message, however deep it was raised).
func (p *pyScanner) value(i, depth int) (int, *pyError) {
	if depth > maxPyDepth {
		return 0, &pyError{}
	}
	if i >= len(p.s) {
		return 0, &pyError{i, "Expecting value"}
	}
	switch c := p.s[i]; {
	case c == '"':
		return p.str(i + 1)
	case c == '{':
		return p.object(i+1, depth+1)
	case c == '[':
		return p.array(i+1, depth+1)
	case c == 'n' && p.has(i, "null"), c == 't' && p.has(i, "true"):
		return i + 4, nil
	case c == 'f' && p.has(i, "false"):
		return i + 5, nil
	case c == 'N' && p.has(i, "NaN"):
		return i + 3, nil
	case c == 'I' && p.has(i, "Infinity"):
		return i + 8, nil
	case c == '-' && p.has(i, "-Infinity"):
		return i + 9, nil
	}
	return p.number(i)
}

// number is _match_number_unicode: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?,
// where a fraction or exponent without digits is simply not part of it.
func (p *pyScanner) number(start int) (int, *pyError) {
	digits := func(i int) int {
		for i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
			i++
		}
		return i
	}
	i := start
	if i < len(p.s) && p.s[i] == '-' {
		i++
	}
	switch {
	case i < len(p.s) && p.s[i] >= '1' && p.s[i] <= '9':
		i = digits(i + 1)
	case i < len(p.s) && p.s[i] == '0':
		i++
	default:
		return 0, &pyError{start, "Expecting value"}
	}
	if i+1 < len(p.s) && p.s[i] == '.' && p.s[i+1] >= '0' && p.s[i+1] <= '9' {
		i = digits(i + 2)
	}
	if i < len(p.s) && (p.s[i] == 'e' || p.s[i] == 'E') {
		j := i + 1
		if j < len(p.s) && (p.s[j] == '-' || p.s[j] == '+') {
			j++
		}
		if k := digits(j); k > j {
			i = k
		}
	}
	return i, nil
}

// str is scanstring_unicode (strict): i is just after the opening quote.
func (p *pyScanner) str(i int) (int, *pyError) {
	begin := i - 1
	for {
		if i >= len(p.s) {
			return 0, &pyError{begin, "Unterminated string starting at"}
		}
		switch c := p.s[i]; {
		case c == '"':
			return i + 1, nil
		case c < 0x20:
			return 0, &pyError{i, "Invalid control character at"}
		case c != '\\':
			i++
			continue
		}
		i++ // the backslash
		if i >= len(p.s) {
			return 0, &pyError{begin, "Unterminated string starting at"}
		}
		if p.s[i] != 'u' {
			switch p.s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
				continue
			}
			return 0, &pyError{i - 1, "Invalid \\escape"}
		}
		if i+5 >= len(p.s) {
			return 0, &pyError{i, "Invalid \\uXXXX escape"}
		}
		for _, h := range p.s[i+1 : i+5] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return 0, &pyError{i, "Invalid \\uXXXX escape"}
			}
		}
		i += 5 // a surrogate pair's second half is read as its own escape
	}
}

// object is _parse_object_unicode: i is just after '{'.
func (p *pyScanner) object(i, depth int) (int, *pyError) {
	i = p.ws(i)
	if i < len(p.s) && p.s[i] == '}' {
		return i + 1, nil
	}
	var err *pyError
	for {
		if i >= len(p.s) || p.s[i] != '"' {
			return 0, &pyError{i, "Expecting property name enclosed in double quotes"}
		}
		if i, err = p.str(i + 1); err != nil {
			return 0, err
		}
		if i = p.ws(i); i >= len(p.s) || p.s[i] != ':' {
			return 0, &pyError{i, "Expecting ':' delimiter"}
		}
		if i, err = p.value(p.ws(i+1), depth); err != nil {
			return 0, err
		}
		i = p.ws(i)
		if i < len(p.s) && p.s[i] == '}' {
			return i + 1, nil
		}
		if i >= len(p.s) || p.s[i] != ',' {
			return 0, &pyError{i, "Expecting ',' delimiter"}
		}
		i = p.ws(i + 1)
	}
}

// array is _parse_array_unicode: i is just after '['.
func (p *pyScanner) array(i, depth int) (int, *pyError) {
	i = p.ws(i)
	if i < len(p.s) && p.s[i] == ']' {
		return i + 1, nil
	}
	var err *pyError
	for {
		if i, err = p.value(i, depth); err != nil {
			return 0, err
		}
		i = p.ws(i)
		if i < len(p.s) && p.s[i] == ']' {
			return i + 1, nil
		}
		if i >= len(p.s) || p.s[i] != ',' {
			return 0, &pyError{i, "Expecting ',' delimiter"}
		}
		i = p.ws(i + 1)
	}
}
