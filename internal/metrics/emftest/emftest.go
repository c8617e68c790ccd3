// Package emftest checks CloudWatch Embedded Metric Format documents
// against the specification, for the tests of internal/metrics and of the
// Lambda image (internal/infratest): a line CloudWatch Logs cannot extract
// is dropped silently in production, so every rule is checked here, not
// only the ones the writer is believed to get right.
//
// The rules, from
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html:
// the line is one JSON object and nothing else, at most 256 KB; its "_aws"
// member is an object with exactly "Timestamp" (an integer, milliseconds
// since the epoch) and "CloudWatchMetrics" (an array of MetricDirective
// objects); a MetricDirective has exactly "Namespace" (1-255 characters),
// "Dimensions" (at least one DimensionSet) and "Metrics" (1-100
// MetricDefinition objects); a DimensionSet holds at most 30 dimension keys
// (1-255 characters each), each a root member with a string value; a
// MetricDefinition has "Name" (1-255 characters) and optionally "Unit", a
// CloudWatch unit, and "StorageResolution", 1 or 60; each metric's root
// member is a number or an array of 1-100 numbers.
package emftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Limits of the specification.
const (
	MaxDocumentBytes  = 256 << 10
	MaxMetrics        = 100 // MetricDefinitions per directive
	MaxDimensionKeys  = 30  // keys per DimensionSet
	MaxValues         = 100 // values of one metric's array
	maxNameCharacters = 255
)

// Units are the CloudWatch units a MetricDefinition may name.
var Units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// Sample is one metric of a document as CloudWatch extracts it: once per
// DimensionSet of its directive.
type Sample struct {
	Namespace  string
	Name       string
	Unit       string
	Dimensions map[string]string // key -> value, for one DimensionSet
	Values     []float64
}

// Document is a valid EMF document.
type Document struct {
	Timestamp time.Time
	Samples   []Sample
}

// IsEMF reports whether line is meant as an EMF document (it names
// "_aws"), so that a test can tell metric lines from log lines; whether it
// is a valid one is Parse's to say.
func IsEMF(line []byte) bool {
	return bytes.Contains(line, []byte(`"_aws"`))
}

// Parse validates line against every rule of the specification and returns
// what CloudWatch would extract from it; the error lists every rule broken.
func Parse(line []byte) (Document, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(line) > MaxDocumentBytes {
		bad("document is %d bytes, over %d", len(line), MaxDocumentBytes)
	}
	root, err := object(line)
	if err != nil {
		return Document{}, fmt.Errorf("not one JSON object: %w", err)
	}
	awsRaw, ok := root["_aws"]
	if !ok {
		return Document{}, errors.New(`no "_aws" member`)
	}
	meta, err := object(awsRaw)
	if err != nil {
		return Document{}, fmt.Errorf(`"_aws" is not an object: %w`, err)
	}
	for k := range meta {
		if k != "Timestamp" && k != "CloudWatchMetrics" {
			bad(`"_aws" has member %q, which the specification does not define`, k)
		}
	}
	var doc Document
	var ts json.Number
	if raw, ok := meta["Timestamp"]; !ok {
		bad(`"_aws" has no Timestamp`)
	} else if err := strictNumber(raw, &ts); err != nil {
		bad("Timestamp %s is not a number", raw)
	} else if ms, err := ts.Int64(); err != nil {
		bad("Timestamp %s is not an integer", ts)
	} else if t := time.UnixMilli(ms); ms < 1e12 || t.After(time.Now().Add(24*time.Hour)) {
		bad("Timestamp %d is not milliseconds since the epoch near now (%s)", ms, t.UTC())
	} else {
		doc.Timestamp = t
	}

	var directives []json.RawMessage
	if raw, ok := meta["CloudWatchMetrics"]; !ok {
		bad(`"_aws" has no CloudWatchMetrics`)
	} else if err := json.Unmarshal(raw, &directives); err != nil || directives == nil {
		bad("CloudWatchMetrics %s is not an array", raw)
	} else if len(directives) == 0 {
		bad("CloudWatchMetrics is empty: nothing would be extracted")
	}
	for i, raw := range directives {
		samples, derrs := directive(root, raw)
		for _, e := range derrs {
			bad("CloudWatchMetrics[%d]: %w", i, e)
		}
		doc.Samples = append(doc.Samples, samples...)
	}
	if err := errors.Join(errs...); err != nil {
		return Document{}, err
	}
	return doc, nil
}

func directive(root map[string]json.RawMessage, raw json.RawMessage) ([]Sample, []error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	d, err := object(raw)
	if err != nil {
		return nil, []error{fmt.Errorf("not an object: %w", err)}
	}
	for k := range d {
		if k != "Namespace" && k != "Dimensions" && k != "Metrics" {
			bad("member %q, which the specification does not define", k)
		}
	}
	var ns string
	if err := str(d["Namespace"], &ns); err != nil || ns == "" || len(ns) > maxNameCharacters {
		bad("Namespace %s is not a string of 1-%d characters", d["Namespace"], maxNameCharacters)
	}
	var sets [][]string
	if err := json.Unmarshal(d["Dimensions"], &sets); err != nil || sets == nil {
		bad("Dimensions %s is not an array of arrays of strings", d["Dimensions"])
	} else if len(sets) == 0 {
		bad("Dimensions is empty (an empty DimensionSet is [[]])")
	}
	dims := make([]map[string]string, len(sets))
	for i, set := range sets {
		if len(set) > MaxDimensionKeys {
			bad("DimensionSet %d has %d keys, over %d", i, len(set), MaxDimensionKeys)
		}
		dims[i] = map[string]string{}
		for _, key := range set {
			if key == "" || len(key) > maxNameCharacters {
				bad("dimension key %q is not 1-%d characters", key, maxNameCharacters)
			}
			if _, dup := dims[i][key]; dup {
				bad("DimensionSet %d names %q twice", i, key)
			}
			var v string
			target, ok := root[key]
			switch {
			case !ok:
				bad("dimension %q has no root member", key)
			case str(target, &v) != nil:
				bad("dimension %q's root member %s is not a string", key, target)
			case v == "":
				bad("dimension %q is empty (CloudWatch refuses an empty dimension value)", key)
			}
			dims[i][key] = v
		}
	}
	var defs []json.RawMessage
	if err := json.Unmarshal(d["Metrics"], &defs); err != nil || defs == nil {
		bad("Metrics %s is not an array", d["Metrics"])
	}
	switch {
	case len(defs) > MaxMetrics:
		bad("Metrics has %d definitions, over %d", len(defs), MaxMetrics)
	case defs != nil && len(defs) == 0:
		bad("Metrics is empty")
	}
	var samples []Sample
	seen := map[string]bool{}
	for _, raw := range defs {
		def, err := object(raw)
		if err != nil {
			bad("MetricDefinition %s is not an object", raw)
			continue
		}
		for k := range def {
			if k != "Name" && k != "Unit" && k != "StorageResolution" {
				bad("MetricDefinition member %q, which the specification does not define", k)
			}
		}
		var name, unit string
		if err := str(def["Name"], &name); err != nil || name == "" || len(name) > maxNameCharacters {
			bad("MetricDefinition Name %s is not a string of 1-%d characters", def["Name"], maxNameCharacters)
			continue
		}
		if seen[name] {
			bad("metric %q is defined twice", name)
		}
		seen[name] = true
		if u, ok := def["Unit"]; ok {
			if err := str(u, &unit); err != nil || !slices.Contains(Units, unit) {
				bad("metric %q: Unit %s is not a CloudWatch unit", name, u)
			}
		}
		if r, ok := def["StorageResolution"]; ok && string(r) != "1" && string(r) != "60" {
			bad("metric %q: StorageResolution %s is not 1 or 60", name, r)
		}
		values, err := metricValues(root[name])
		if err != nil {
			bad("metric %q: %v", name, err)
			continue
		}
		for _, set := range dims {
			samples = append(samples, Sample{Namespace: ns, Name: name, Unit: unit, Dimensions: set, Values: values})
		}
	}
	return samples, errs
}

// metricValues reads a metric's root member: a number, or an array of
// 1-100 numbers.
func metricValues(raw json.RawMessage) ([]float64, error) {
	if raw == nil {
		return nil, errors.New("no root member holds its value")
	}
	var n json.Number
	if strictNumber(raw, &n) == nil {
		v, err := n.Float64()
		return []float64{v}, err
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil || arr == nil {
		return nil, fmt.Errorf("value %s is neither a number nor an array of numbers", raw)
	}
	if len(arr) == 0 || len(arr) > MaxValues {
		return nil, fmt.Errorf("values array has %d members, want 1-%d", len(arr), MaxValues)
	}
	out := make([]float64, 0, len(arr))
	for _, e := range arr {
		if strictNumber(e, &n) != nil {
			return nil, fmt.Errorf("values array member %s is not a number", e)
		}
		v, err := n.Float64()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// object decodes raw as one JSON object with nothing after it; duplicate
// member names are an error (which of them CloudWatch reads is undefined).
func object(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("starts with %v, not {", tok)
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("member %q appears twice", key)
		}
		out[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if rest, _ := io.ReadAll(dec.Buffered()); len(strings.TrimSpace(string(rest))) > 0 {
		return nil, fmt.Errorf("data after the object: %q", rest)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return out, nil
}

func str(raw json.RawMessage, s *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return errors.New("not a string")
	}
	return json.Unmarshal(raw, s)
}

func strictNumber(raw json.RawMessage, n *json.Number) error {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return errors.New("not a number")
	}
	return json.Unmarshal(raw, n)
}
