package infratest_test

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/sony/gobreaker/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/metrics"
	"github.com/taskapi/taskapi/internal/requestinfo"
)

// watched is one metric an alarm or a dashboard widget names.
type watched struct {
	where      string // the resource or widget, for failure messages
	namespace  string
	name       string
	dimensions map[string]string // key -> value ("" for a SEARCH's any value)
}

// instances are the evaluation contexts of a resource block: one per
// for_each element (each.key, each.value) or count index, or the module's
// own for a single resource.
func (m *tfModule) instances(t *testing.T, b *hclsyntax.Block) map[string]*hcl.EvalContext {
	t.Helper()
	out := map[string]*hcl.EvalContext{}
	child := func(name string, v cty.Value) *hcl.EvalContext {
		c := m.ctx.NewChild()
		c.Variables = map[string]cty.Value{name: v}
		return c
	}
	switch {
	case b.Body.Attributes["for_each"] != nil:
		v := m.known(t, b.Body.Attributes["for_each"].Expr, where(b.Body)+".for_each")
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if v.Type().IsSetType() {
				k = e
			}
			out[k.AsString()] = child("each", cty.ObjectVal(map[string]cty.Value{"key": k, "value": e}))
		}
	case b.Body.Attributes["count"] != nil:
		v := m.known(t, b.Body.Attributes["count"].Expr, where(b.Body)+".count")
		n, _ := v.AsBigFloat().Int64()
		for i := range n {
			out[strings.Repeat("#", int(i)+1)] = child("count", cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(i)}))
		}
	default:
		out[""] = m.ctx
	}
	return out
}

// metricOf reads namespace, metric_name and dimensions from a body (an
// alarm, or a metric_query's metric block) in ctx.
func metricOf(t *testing.T, body *hclsyntax.Body, ctx *hcl.EvalContext, what string) watched {
	t.Helper()
	str := func(name string) string {
		a, ok := body.Attributes[name]
		if !ok {
			t.Fatalf("%s: no %s", what, name)
		}
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() || v.Type() != cty.String {
			t.Fatalf("%s.%s is not a string known without AWS: %s", what, name, diags.Error())
		}
		return v.AsString()
	}
	w := watched{where: what, namespace: str("namespace"), name: str("metric_name"), dimensions: map[string]string{}}
	if a, ok := body.Attributes["dimensions"]; ok {
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("%s.dimensions: %s", what, diags.Error())
		}
		mv, err := convert.Convert(v, cty.Map(cty.String))
		if err != nil {
			t.Fatalf("%s.dimensions = %#v is not a map of strings", what, v)
		}
		for k, e := range mv.AsValueMap() {
			if e.IsKnown() {
				w.dimensions[k] = e.AsString()
			} else {
				w.dimensions[k] = "<computed>"
			}
		}
	}
	return w
}

// alarmMetrics lists every metric the module's alarms watch.
func alarmMetrics(t *testing.T, m *tfModule) []watched {
	t.Helper()
	var out []watched
	for _, b := range m.find("resource", "aws_cloudwatch_metric_alarm") {
		for key, ctx := range m.instances(t, b) {
			what := "aws_cloudwatch_metric_alarm." + b.Labels[1]
			if key != "" {
				what += "[" + key + "]"
			}
			if _, ok := b.Body.Attributes["metric_name"]; ok {
				out = append(out, metricOf(t, b.Body, ctx, what))
			}
			for _, q := range nested(b.Body, "metric_query") {
				for _, mb := range nested(q.Body, "metric") {
					out = append(out, metricOf(t, mb.Body, ctx, what+".metric_query"))
				}
			}
		}
	}
	return out
}

// searchSchema matches a SEARCH expression's schema and metric name:
// SEARCH('{namespace,key1,key2} MetricName="Name"', ...).
var searchSchema = regexp.MustCompile(`SEARCH\('\{([^}]*)\}\s+MetricName=\\?"([^"\\]+)\\?"`)

// dashboardMetrics lists every metric the dashboard's widgets show: the
// metric arrays and the SEARCH expressions.
func dashboardMetrics(t *testing.T, m *tfModule) []watched {
	t.Helper()
	body := m.str(t, m.resource(t, "aws_cloudwatch_dashboard", "main").Body, "dashboard_body")
	var dash struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Title   string              `json:"title"`
				Metrics [][]json.RawMessage `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("dashboard_body is not a dashboard: %v", err)
	}
	var out []watched
	for _, w := range dash.Widgets {
		what := "dashboard widget " + w.Properties.Title
		for _, row := range w.Properties.Metrics {
			var first string
			if len(row) > 0 && json.Unmarshal(row[0], &first) == nil {
				// [namespace, name, key, value, ..., {options}]
				var strs []string
				for _, r := range row {
					var s string
					if json.Unmarshal(r, &s) != nil {
						break
					}
					strs = append(strs, s)
				}
				if slices.Contains(strs, ".") || len(strs) < 2 || len(strs)%2 != 0 {
					t.Errorf("%s: metric %q is not [namespace, name, key, value, ...] (the \".\" shorthand hides what it names)", what, strs)
					continue
				}
				mw := watched{where: what, namespace: strs[0], name: strs[1], dimensions: map[string]string{}}
				for i := 2; i < len(strs); i += 2 {
					mw.dimensions[strs[i]] = strs[i+1]
				}
				out = append(out, mw)
				continue
			}
			for _, r := range row {
				var opt struct{ Expression string }
				if json.Unmarshal(r, &opt) != nil || opt.Expression == "" {
					continue
				}
				for _, sm := range searchSchema.FindAllStringSubmatch(opt.Expression, -1) {
					parts := strings.Split(sm[1], ",")
					mw := watched{where: what + " (SEARCH)", namespace: strings.TrimSpace(parts[0]), name: sm[2], dimensions: map[string]string{}}
					for _, k := range parts[1:] {
						mw.dimensions[strings.TrimSpace(k)] = ""
					}
					out = append(out, mw)
				}
				if strings.Contains(opt.Expression, "SEARCH(") && !searchSchema.MatchString(opt.Expression) {
					t.Errorf("%s: SEARCH expression %q names no {namespace,keys} schema and MetricName", what, opt.Expression)
				}
			}
		}
	}
	return out
}

// TestTerraform_AlarmsAndDashboardNameWhatTheCodeEmits: every alarm and
// dashboard figure in the function's metric namespace (the Lambda's
// METRICS_NAMESPACE) names a metric the code writes as EMF
// (metrics.EMFMetrics), with exactly one of its dimension sets (CloudWatch
// identifies a metric by its name and all its dimensions: a subset or a
// superset is another, empty, metric), and dimension values the code can
// write. A custom namespace other than the function's is an error too: no
// code writes there. AWS's own namespaces are not the code's to check.
func TestTerraform_AlarmsAndDashboardNameWhatTheCodeEmits(t *testing.T) {
	m := loadTerraform(t, nil)
	env, _ := lambdaEnv(t, m)
	ns := env["METRICS_NAMESPACE"]
	if ns == "" {
		t.Fatal("the Lambda's environment sets no METRICS_NAMESPACE: its EMF metrics would land in the default namespace")
	}
	declared := map[string][][]string{}
	for _, em := range metrics.EMFMetrics() {
		declared[em.Name] = em.Dimensions
	}
	// The values the code writes for each dimension key, where the code
	// names them (component has no exported names: any value passes).
	values := map[string][]string{
		"transport": {requestinfo.GraphQL, requestinfo.REST, requestinfo.Other},
		"result":    {"hit", "miss", "bypass"}, // store/cache's results (cache.Observer)
		"state":     {gobreaker.StateOpen.String(), gobreaker.StateHalfOpen.String(), gobreaker.StateClosed.String()},
		"kind":      {metrics.KindNotFound, metrics.KindConflict, metrics.KindPrecondition, metrics.KindUnavailable, metrics.KindCanceled, metrics.KindOther},
		"limit":     {core.LimitLogin, core.LimitLoginAccount, core.LimitLoginEmail, core.LimitRegister, core.LimitRegisterAll, core.LimitWrites},
		"reason":    {core.LoginFailureCredentials, core.LoginFailureInactive, core.LoginFailurePasswordReset},
	}

	alarms, dashboard := alarmMetrics(t, m), dashboardMetrics(t, m)
	emf := 0
	for _, w := range slices.Concat(alarms, dashboard) {
		if strings.HasPrefix(w.namespace, "AWS/") {
			continue
		}
		emf++
		t.Run(w.where+"/"+w.name, func(t *testing.T) {
			if w.namespace != ns {
				t.Fatalf("namespace %q: the function writes to %q (METRICS_NAMESPACE) and nothing else writes custom metrics", w.namespace, ns)
			}
			sets, ok := declared[w.name]
			if !ok {
				t.Fatalf("metric %q is not one the code writes (metrics.EMFMetrics: %v)", w.name, slices.Sorted(maps.Keys(declared)))
			}
			keys := slices.Sorted(maps.Keys(w.dimensions))
			match := false
			for _, set := range sets {
				if slices.Equal(keys, slices.Sorted(slices.Values(set))) {
					match = true
				}
			}
			if !match {
				t.Fatalf("%s with dimensions %q: the code writes it with %q only", w.name, keys, sets)
			}
			for k, v := range w.dimensions {
				if allowed, ok := values[k]; ok && v != "" && !slices.Contains(allowed, v) {
					t.Errorf("dimension %s=%q: the code writes %s as one of %q", k, v, k, allowed)
				}
			}
		})
	}
	// The check must have had something to check: the alarms on the
	// function's own metrics and the dashboard's EMF figures.
	names := map[string]bool{}
	for _, w := range slices.Concat(alarms, dashboard) {
		if w.namespace == ns {
			names[w.name] = true
		}
	}
	for _, want := range []string{metrics.EMFLatency, metrics.EMFBreakerState, metrics.EMFStoreErrors, metrics.EMFRequests, metrics.EMFCacheReads} {
		if !names[want] {
			t.Errorf("no alarm or dashboard figure watches %s (watched: %v)", want, slices.Sorted(maps.Keys(names)))
		}
	}
	t.Logf("%d alarm metrics and %d dashboard metrics, %d of them EMF", len(alarms), len(dashboard), emf)
}

// TestTerraform_AlarmsNotifyTheTopic: every alarm notifies
// alarm_sns_topic_arn (and alarm_actions) when it fires and when it
// recovers, and nobody when both are empty.
func TestTerraform_AlarmsNotifyTheTopic(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:oncall"
	for _, tc := range []struct {
		name string
		vars map[string]cty.Value
		want []string
	}{
		{"NoTopicNoActions", nil, nil},
		{"Topic", map[string]cty.Value{"alarm_sns_topic_arn": cty.StringVal(topic)}, []string{topic}},
		{"TopicAndActionsOnceEach", map[string]cty.Value{
			"alarm_sns_topic_arn": cty.StringVal(topic),
			"alarm_actions":       cty.ListVal([]cty.Value{cty.StringVal(topic), cty.StringVal("arn:aws:sns:us-east-1:123456789012:audit")}),
		}, []string{"arn:aws:sns:us-east-1:123456789012:audit", topic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := loadTerraform(t, tc.vars)
			blocks := m.find("resource", "aws_cloudwatch_metric_alarm")
			if len(blocks) < 10 {
				t.Fatalf("%d alarm resources: the module lost its alarms", len(blocks))
			}
			for _, b := range blocks {
				for key, ctx := range m.instances(t, b) {
					for _, attr := range []string{"alarm_actions", "ok_actions"} {
						a, ok := b.Body.Attributes[attr]
						if !ok {
							t.Errorf("%s[%s] has no %s", b.Labels[1], key, attr)
							continue
						}
						v, diags := a.Expr.Value(ctx)
						if diags.HasErrors() || !v.IsWhollyKnown() {
							t.Fatalf("%s.%s: %s", b.Labels[1], attr, diags.Error())
						}
						var got []string
						for _, e := range v.AsValueSlice() {
							got = append(got, e.AsString())
						}
						sort.Strings(got)
						if !slices.Equal(got, tc.want) {
							t.Errorf("%s[%s].%s = %q, want %q", b.Labels[1], key, attr, got, tc.want)
						}
					}
				}
			}
		})
	}
}
