package infratest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/taskapi/taskapi/config"
	"github.com/taskapi/taskapi/store/dynamo"
)

// testVars are the values of the module's variables that have no default.
func testVars(extra map[string]cty.Value) map[string]cty.Value {
	vars := map[string]cty.Value{"image_tag": cty.StringVal("v1.2.3")}
	maps.Copy(vars, extra)
	return vars
}

func loadTerraform(tb testing.TB, extra map[string]cty.Value) *tfModule {
	tb.Helper()
	return loadModule(tb, filepath.Join(repoRoot(tb), "terraform"), testVars(extra))
}

// tableLayout is a DynamoDB table's shape: what must be the same in
// Terraform and in `taskapi create-tables`.
type tableLayout struct {
	Key        []string          // "user_id HASH", "task_id RANGE"
	Attributes map[string]string // name -> S | N | B
	Indexes    map[string]indexLayout
	Billing    string
}

type indexLayout struct {
	Key        []string
	Projection string
}

// createTableRequest is the part of a DynamoDB CreateTable request the
// layout is made of.
type createTableRequest struct {
	TableName            string
	BillingMode          string
	AttributeDefinitions []struct{ AttributeName, AttributeType string }
	KeySchema            []struct{ AttributeName, KeyType string }
	GlobalSecondaryIndex []struct {
		IndexName  string
		KeySchema  []struct{ AttributeName, KeyType string }
		Projection struct{ ProjectionType string }
	} `json:"GlobalSecondaryIndexes"`
}

// codeTables runs the code's CreateTables against a fake DynamoDB that
// records each CreateTable request and reports every table ACTIVE, and
// returns the layouts the code asked for, by table name.
func codeTables(t *testing.T, tables dynamo.Tables) map[string]tableLayout {
	t.Helper()
	var mu sync.Mutex
	created := map[string]createTableRequest{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		mu.Lock()
		defer mu.Unlock()
		switch op {
		case "CreateTable":
			var req createTableRequest
			if err := json.Unmarshal(body, &req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			created[req.TableName] = req
			fmt.Fprintf(w, `{"TableDescription":{"TableName":%q,"TableStatus":"CREATING"}}`, req.TableName)
		case "DescribeTable":
			var req struct{ TableName string }
			_ = json.Unmarshal(body, &req)
			c, ok := created[req.TableName]
			if !ok {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"not found"}`)
				return
			}
			var gsis []map[string]any
			for _, g := range c.GlobalSecondaryIndex {
				gsis = append(gsis, map[string]any{"IndexName": g.IndexName, "IndexStatus": "ACTIVE", "KeySchema": g.KeySchema})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"Table": map[string]any{
				"TableName": c.TableName, "TableStatus": "ACTIVE", "KeySchema": c.KeySchema, "GlobalSecondaryIndexes": gsis,
			}})
		case "DescribeTimeToLive":
			_, _ = io.WriteString(w, `{"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}}`)
		case "UpdateTimeToLive":
			var req struct{ TimeToLiveSpecification json.RawMessage }
			_ = json.Unmarshal(body, &req)
			fmt.Fprintf(w, `{"TimeToLiveSpecification":%s}`, req.TimeToLiveSpecification)
		default:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"com.amazon.coral.validate#ValidationException","message":"fake DynamoDB: unexpected %s"}`, op)
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "fake")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	client, err := dynamo.NewClient(t.Context(), dynamo.Options{Region: "us-east-1", Endpoint: srv.URL})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if err := dynamo.New(client, tables).CreateTables(t.Context()); err != nil {
		t.Fatalf("CreateTables against the fake DynamoDB: %v", err)
	}
	out := map[string]tableLayout{}
	for name, c := range created {
		l := tableLayout{Attributes: map[string]string{}, Indexes: map[string]indexLayout{}, Billing: c.BillingMode}
		for _, k := range c.KeySchema {
			l.Key = append(l.Key, k.AttributeName+" "+k.KeyType)
		}
		for _, a := range c.AttributeDefinitions {
			l.Attributes[a.AttributeName] = a.AttributeType
		}
		for _, g := range c.GlobalSecondaryIndex {
			var key []string
			for _, k := range g.KeySchema {
				key = append(key, k.AttributeName+" "+k.KeyType)
			}
			l.Indexes[g.IndexName] = indexLayout{Key: key, Projection: g.Projection.ProjectionType}
		}
		out[name] = l
	}
	return out
}

// terraformTable is the layout of resource "aws_dynamodb_table" name.
func terraformTable(t *testing.T, m *tfModule, name string) tableLayout {
	t.Helper()
	b := m.resource(t, "aws_dynamodb_table", name).Body
	key := func(body *hclsyntax.Body) []string {
		k := []string{m.str(t, body, "hash_key") + " HASH"}
		if _, ok := body.Attributes["range_key"]; ok {
			k = append(k, m.str(t, body, "range_key")+" RANGE")
		}
		return k
	}
	l := tableLayout{Key: key(b), Attributes: map[string]string{}, Indexes: map[string]indexLayout{}, Billing: m.str(t, b, "billing_mode")}
	for _, a := range nested(b, "attribute") {
		l.Attributes[m.str(t, a.Body, "name")] = m.str(t, a.Body, "type")
	}
	for _, g := range nested(b, "global_secondary_index") {
		l.Indexes[m.str(t, g.Body, "name")] = indexLayout{Key: key(g.Body), Projection: m.str(t, g.Body, "projection_type")}
	}
	return l
}

func TestTerraform_TablesAreTheOnesCreateTablesMakes(t *testing.T) {
	m := loadTerraform(t, nil)
	code := codeTables(t, dynamo.Tables{Users: "code-users", Tasks: "code-tasks"})
	tests := []struct {
		name      string // the Terraform resource
		codeTable string
		indexes   []string // the indexes the code queries, by their Go constants
	}{
		{name: "users", codeTable: "code-users", indexes: []string{dynamo.EmailIndex}},
		{name: "tasks", codeTable: "code-tasks", indexes: []string{dynamo.StatusIndex,
			dynamo.UpdatedIndex, dynamo.DueIndex, dynamo.StatusUpdatedIndex, dynamo.StatusDueIndex}},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/SameLayout", func(t *testing.T) {
			want, ok := code[tc.codeTable]
			if !ok {
				t.Fatalf("CreateTables did not create %s (created %v)", tc.codeTable, slices.Collect(maps.Keys(code)))
			}
			got := terraformTable(t, m, tc.name)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("terraform aws_dynamodb_table.%s differs from what create-tables makes:\nterraform:     %+v\ncreate-tables: %+v", tc.name, got, want)
			}
			for _, index := range tc.indexes {
				if _, ok := got.Indexes[index]; !ok {
					t.Errorf("aws_dynamodb_table.%s has no index %q (dynamo's constant)", tc.name, index)
				}
			}
		})
		t.Run(tc.name+"/EveryAttributeIsAKey", func(t *testing.T) {
			// DynamoDB refuses attribute definitions that no key uses: the
			// apply would fail.
			l := terraformTable(t, m, tc.name)
			used := map[string]bool{}
			for _, k := range l.Key {
				used[strings.Fields(k)[0]] = true
			}
			for _, ix := range l.Indexes {
				for _, k := range ix.Key {
					used[strings.Fields(k)[0]] = true
				}
			}
			for a := range l.Attributes {
				if !used[a] {
					t.Errorf("attribute %q is declared but is no key", a)
				}
			}
			for a := range used {
				if _, ok := l.Attributes[a]; !ok {
					t.Errorf("key attribute %q is not declared", a)
				}
			}
		})
		t.Run(tc.name+"/RecoverableAndEncrypted", func(t *testing.T) {
			b := m.resource(t, "aws_dynamodb_table", tc.name).Body
			if !m.boolean(t, one(t, b, "point_in_time_recovery").Body, "enabled") {
				t.Error("point-in-time recovery is off")
			}
			if !m.boolean(t, one(t, b, "server_side_encryption").Body, "enabled") {
				t.Error("server-side encryption (KMS) is off")
			}
			if !m.boolean(t, b, "deletion_protection_enabled") {
				t.Error("deletion protection is off by default")
			}
		})
	}
}

// lambdaEnv is the Lambda's environment as Terraform sets it, and the
// expression of each value.
func lambdaEnv(t *testing.T, m *tfModule) (map[string]string, map[string]hclsyntax.Expression) {
	t.Helper()
	fn := m.resource(t, "aws_lambda_function", "api").Body
	expr := attr(t, one(t, fn, "environment").Body, "variables")
	env := m.stringMap(t, expr, "aws_lambda_function.api environment")
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		t.Fatalf("the Lambda's environment variables are not an object literal")
	}
	exprs := map[string]hclsyntax.Expression{}
	for _, item := range obj.Items {
		k, diags := item.KeyExpr.Value(nil)
		if diags.HasErrors() || k.Type() != cty.String {
			t.Fatalf("environment key %v is not a plain name", item.KeyExpr.Range())
		}
		exprs[k.AsString()] = item.ValueExpr
	}
	return env, exprs
}

// reservedLambdaEnv are names Lambda sets itself and refuses in a
// function's configuration.
var reservedLambdaEnv = regexp.MustCompile(`^(_HANDLER|_X_AMZN_TRACE_ID|AWS_DEFAULT_REGION|AWS_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_[A-Z_]+|AWS_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_XRAY_[A-Z_]+|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$`)

func TestTerraform_LambdaEnvironmentIsAValidProductionConfig(t *testing.T) {
	for _, create := range []bool{false, true} {
		t.Run(fmt.Sprintf("create_secret_parameters=%v/OK", create), func(t *testing.T) {
			m := loadTerraform(t, map[string]cty.Value{"create_secret_parameters": cty.BoolVal(create)})
			env, exprs := lambdaEnv(t, m)

			for k := range env {
				if reservedLambdaEnv.MatchString(k) {
					t.Errorf("environment sets %s, which Lambda reserves (the apply would fail)", k)
				}
			}
			for _, secret := range []string{"JWT_SECRET", "PASS_SECRET_KEY", "DYNAMODB_ENDPOINT", "DATA_DIR"} {
				if _, ok := env[secret]; ok {
					t.Errorf("environment sets %s: secrets go through SSM, local-only settings not at all", secret)
				}
			}

			// What Lambda adds at run time.
			region := m.str(t, m.find("provider", "aws")[0].Body, "region")
			full := maps.Clone(env)
			full["AWS_REGION"] = region
			full["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
			cfg, err := config.Load(func(k string) string { return full[k] })
			if err != nil {
				t.Fatalf("the production configuration does not load from the Lambda's environment: %v", err)
			}

			users := m.str(t, m.resource(t, "aws_dynamodb_table", "users").Body, "name")
			tasks := m.str(t, m.resource(t, "aws_dynamodb_table", "tasks").Body, "name")
			redis := m.resource(t, "aws_elasticache_replication_group", "redis").Body
			jwtParam, pepperParam := secretParameterNames(t, m, create)
			checks := []struct {
				what      string
				got, want any
			}{
				{"Environment", cfg.Environment, "production"},
				{"Development()", cfg.Development(), false},
				{"Lambda", cfg.Lambda, true},
				{"Store", cfg.Store, config.StoreDynamoDB},
				{"AWSRegion", cfg.AWSRegion, region},
				{"UsersTable", cfg.UsersTable, users},
				{"TasksTable", cfg.TasksTable, tasks},
				{"CacheEnabled()", cfg.CacheEnabled(), true},
				{"RedisPort", strconv.Itoa(cfg.RedisPort), m.str(t, redis, "port")},
				{"RedisTLS (must match transit_encryption_enabled)", cfg.RedisTLS, m.boolean(t, redis, "transit_encryption_enabled")},
				{"JWTSecret (never in the environment)", cfg.JWTSecret, ""},
				{"JWTSecretParam", cfg.JWTSecretParam, jwtParam},
				{"PassSecretKey (never in the environment)", cfg.PassSecretKey, ""},
				{"PassKeyParam", cfg.PassKeyParam, pepperParam},
				{"LambdaEventFormat", cfg.LambdaEventFormat, config.EventHTTPAPIv2},
				{"Introspection (off by default in production)", cfg.Introspection, false},
				{"LogFormat", cfg.LogFormat, "json"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("config %s = %v, want %v", c.what, c.got, c.want)
				}
			}

			// The values come from the resources themselves, not from
			// copies that could drift.
			wantRefs := map[string]string{
				"USERS_TABLE": "aws_dynamodb_table.users.name",
				"TASKS_TABLE": "aws_dynamodb_table.tasks.name",
				"REDIS_HOST":  "aws_elasticache_replication_group.redis.primary_endpoint_address",
				"REDIS_PORT":  "aws_elasticache_replication_group.redis.port",
				"REDIS_TLS":   "aws_elasticache_replication_group.redis.transit_encryption_enabled",
			}
			for k, ref := range wantRefs {
				if got := refs(exprs[k]); !slices.Equal(got, []string{ref}) {
					t.Errorf("%s references %v, want %s", k, got, ref)
				}
			}

			// The event format the function expects is the one the
			// integration sends.
			integ := m.resource(t, "aws_apigatewayv2_integration", "lambda").Body
			if got := m.str(t, integ, "payload_format_version"); env["LAMBDA_EVENT_FORMAT"] != "http-api-v2" || got != "2.0" {
				t.Errorf("LAMBDA_EVENT_FORMAT=%s with payload_format_version %s: want http-api-v2 with 2.0", env["LAMBDA_EVENT_FORMAT"], got)
			}
		})
	}
}

// secretParameterNames are the names of the two SSM parameters Terraform
// creates (create) or requires to exist, after checking them.
func secretParameterNames(t *testing.T, m *tfModule, create bool) (jwt, pepper string) {
	t.Helper()
	wantRes, wantData := int64(0), int64(1)
	if create {
		wantRes, wantData = 1, 0
	}
	count := func(b *hclsyntax.Block, what string) int64 {
		n, _ := m.known(t, attr(t, b.Body, "count"), what+" count").AsBigFloat().Int64()
		return n
	}
	// The existing parameters are listed under their path, never decrypted.
	data := m.dataSource(t, "aws_ssm_parameters_by_path", "secrets")
	if m.boolean(t, data.Body, "with_decryption") {
		t.Errorf("data.aws_ssm_parameters_by_path.secrets decrypts: the plaintext would land in state")
	}
	if n := count(data, "parameters_by_path"); n != wantData {
		t.Errorf("data.aws_ssm_parameters_by_path.secrets count = %d, want %d", n, wantData)
	}
	path := m.str(t, data.Body, "path")
	names := map[string]string{}
	for _, name := range []string{"jwt_secret", "pass_secret_key"} {
		res := m.resource(t, "aws_ssm_parameter", name)
		if got := m.str(t, res.Body, "type"); got != "SecureString" {
			t.Errorf("aws_ssm_parameter.%s type = %s, want SecureString", name, got)
		}
		if n := count(res, name); n != wantRes {
			t.Errorf("aws_ssm_parameter.%s count = %d, want %d", name, n, wantRes)
		}
		rn := m.str(t, res.Body, "name")
		if dir, _ := filepath.Split(rn); strings.TrimSuffix(dir, "/") != path {
			t.Errorf("aws_ssm_parameter.%s is %s, outside the path %s the plan checks", name, rn, path)
		}
		names[name] = rn
	}
	return names["jwt_secret"], names["pass_secret_key"]
}

// policyStatement is one statement of an aws_iam_policy_document.
type policyStatement struct {
	sid       string
	actions   []string
	resources []string
}

func statements(t *testing.T, m *tfModule, doc string) []policyStatement {
	t.Helper()
	var out []policyStatement
	for _, s := range nested(m.dataSource(t, "aws_iam_policy_document", doc).Body, "statement") {
		if _, ok := s.Body.Attributes["effect"]; ok && m.str(t, s.Body, "effect") != "Allow" {
			continue
		}
		for _, forbidden := range []string{"not_actions", "not_resources"} {
			if _, ok := s.Body.Attributes[forbidden]; ok {
				t.Errorf("statement at %s uses %s: grant positively", where(s.Body), forbidden)
			}
		}
		st := policyStatement{actions: m.strList(t, s.Body, "actions")}
		if _, ok := s.Body.Attributes["resources"]; ok {
			st.resources = m.strList(t, s.Body, "resources")
		}
		if _, ok := s.Body.Attributes["sid"]; ok {
			st.sid = m.str(t, s.Body, "sid")
		}
		out = append(out, st)
	}
	return out
}

func TestTerraform_LambdaRoleIsLeastPrivilege(t *testing.T) {
	m := loadTerraform(t, nil)
	table := func(name string) string { return "<aws_dynamodb_table." + name + ".arn>" }
	wantDynamoResources := slices.Sorted(slices.Values([]string{
		table("tasks"), table("tasks") + "/index/" + dynamo.StatusIndex,
		table("tasks") + "/index/" + dynamo.UpdatedIndex, table("tasks") + "/index/" + dynamo.DueIndex,
		table("tasks") + "/index/" + dynamo.StatusUpdatedIndex, table("tasks") + "/index/" + dynamo.StatusDueIndex,
		table("users"), table("users") + "/index/" + dynamo.EmailIndex,
	}))
	jwt, pepper := secretParameterNames(t, m, false)
	allowed := map[string][]string{
		"dynamodb": {"BatchGetItem", "BatchWriteItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan", "UpdateItem"},
		"ssm":      {"GetParameters"}, // internal/ssm's one call
		"logs":     {"CreateLogStream", "PutLogEvents"},
		"ec2": {"AssignPrivateIpAddresses", "CreateNetworkInterface", "DeleteNetworkInterface",
			"DescribeNetworkInterfaces", "DescribeSubnets", "UnassignPrivateIpAddresses"},
	}
	seen := map[string]bool{}
	for _, st := range statements(t, m, "lambda") {
		t.Run(st.sid+"/LeastPrivilege", func(t *testing.T) {
			service := ""
			for _, a := range st.actions {
				svc, action, _ := strings.Cut(a, ":")
				if service == "" {
					service = svc
				}
				if svc != service {
					t.Errorf("statement mixes %s and %s actions", service, svc)
				}
				if strings.Contains(action, "*") || !slices.Contains(allowed[svc], action) {
					t.Errorf("action %s is not one the Lambda needs", a)
				}
			}
			seen[service] = true
			res := slices.Sorted(slices.Values(st.resources))
			switch service {
			case "dynamodb":
				if !slices.Equal(res, wantDynamoResources) {
					t.Errorf("DynamoDB resources = %q, want exactly the two tables and their indexes %q", res, wantDynamoResources)
				}
			case "ssm":
				if len(res) != 2 || !strings.HasSuffix(res[0], ":parameter"+jwt) || !strings.HasSuffix(res[1], ":parameter"+pepper) {
					t.Errorf("SSM resources = %q, want the parameters %s and %s", res, jwt, pepper)
				}
			case "logs":
				for _, r := range res {
					if r != "<aws_cloudwatch_log_group.lambda.arn>:*" {
						t.Errorf("logs resource %s is not the function's log group", r)
					}
				}
			case "ec2":
				// Network-interface actions cannot be scoped; they are the
				// ones AWSLambdaVPCAccessExecutionRole grants.
			default:
				t.Errorf("unexpected service %q", service)
			}
			if service != "ec2" && slices.Contains(res, "*") {
				t.Errorf("%s statement grants on every resource", service)
			}
		})
	}
	for _, svc := range []string{"dynamodb", "ssm", "logs", "ec2"} {
		if !seen[svc] {
			t.Errorf("the role has no %s statement", svc)
		}
	}

	t.Run("KMSOnlyThroughSSM", func(t *testing.T) {
		var dyn []*hclsyntax.Block
		for _, b := range nested(m.dataSource(t, "aws_iam_policy_document", "lambda").Body, "dynamic") {
			if b.Labels[0] == "statement" {
				dyn = append(dyn, b)
			}
		}
		if len(dyn) != 1 {
			t.Fatalf("want one dynamic statement (kms:Decrypt with a customer key), got %d", len(dyn))
		}
		content := one(t, dyn[0].Body, "content").Body
		if got := m.strList(t, content, "actions"); !slices.Equal(got, []string{"kms:Decrypt"}) {
			t.Errorf("actions = %q, want kms:Decrypt only", got)
		}
		if got := refs(attr(t, content, "resources")); !slices.Equal(got, []string{"statement.value"}) {
			t.Errorf("resources reference %q, want the key of secrets_kms_key_arn only", got)
		}
		cond := one(t, content, "condition").Body
		if m.str(t, cond, "variable") != "kms:ViaService" {
			t.Errorf("kms:Decrypt is not limited to SSM")
		}
	})

	t.Run("NoManagedPolicies", func(t *testing.T) {
		if n := len(m.find("resource", "aws_iam_role_policy_attachment")); n > 0 {
			t.Errorf("%d managed policy attachments: the inline policy is the whole grant", n)
		}
		assume := statements(t, m, "lambda_assume")
		if len(assume) != 1 || !slices.Equal(assume[0].actions, []string{"sts:AssumeRole"}) {
			t.Fatalf("assume-role policy = %+v", assume)
		}
		principals := one(t, nested(m.dataSource(t, "aws_iam_policy_document", "lambda_assume").Body, "statement")[0].Body, "principals").Body
		if got := m.strList(t, principals, "identifiers"); !slices.Equal(got, []string{"lambda.amazonaws.com"}) {
			t.Errorf("role can be assumed by %q, want lambda.amazonaws.com only", got)
		}
	})
}

func TestTerraform_NetworkIsolation(t *testing.T) {
	m := loadTerraform(t, nil)

	t.Run("NoInternetPath", func(t *testing.T) {
		for _, typ := range []string{"aws_internet_gateway", "aws_nat_gateway", "aws_egress_only_internet_gateway", "aws_eip"} {
			if n := len(m.find("resource", typ)); n > 0 {
				t.Errorf("%d %s: the VPC must stay private", n, typ)
			}
		}
		for _, r := range m.find("resource", "aws_route") {
			t.Errorf("route %s: the private route table needs none", r.Labels[1])
		}
		sn := m.resource(t, "aws_subnet", "private").Body
		if m.boolean(t, sn, "map_public_ip_on_launch") {
			t.Error("private subnets map public IPs")
		}
		if got := m.known(t, attr(t, sn, "count"), "subnet count"); !got.Equals(cty.NumberIntVal(2)).True() {
			t.Errorf("subnet count = %#v, want 2 (two AZs)", got)
		}
		for _, sg := range m.find("resource", "aws_security_group") {
			if len(nested(sg.Body, "ingress"))+len(nested(sg.Body, "egress")) > 0 {
				t.Errorf("security group %s has inline rules", sg.Labels[1])
			}
		}
		for _, r := range append(m.find("resource", "aws_vpc_security_group_egress_rule"), m.find("resource", "aws_vpc_security_group_ingress_rule")...) {
			for _, open := range []string{"cidr_ipv4", "cidr_ipv6"} {
				if _, ok := r.Body.Attributes[open]; ok {
					t.Errorf("rule %s opens to a CIDR block", r.Labels[1])
				}
			}
		}
	})

	t.Run("LambdaInPrivateSubnets", func(t *testing.T) {
		vpc := one(t, m.resource(t, "aws_lambda_function", "api").Body, "vpc_config").Body
		if got := refs(attr(t, vpc, "subnet_ids")); !slices.Equal(got, []string{"aws_subnet.private"}) {
			t.Errorf("Lambda subnets reference %q", got)
		}
		if got := refs(attr(t, vpc, "security_group_ids")); !slices.Equal(got, []string{"aws_security_group.lambda.id"}) {
			t.Errorf("Lambda security groups reference %q", got)
		}
	})

	t.Run("RedisOnlyFromTheLambda", func(t *testing.T) {
		rg := m.resource(t, "aws_elasticache_replication_group", "redis").Body
		for _, enc := range []string{"at_rest_encryption_enabled", "transit_encryption_enabled"} {
			if !m.boolean(t, rg, enc) {
				t.Errorf("Redis %s is off", enc)
			}
		}
		if got := refs(attr(t, rg, "security_group_ids")); !slices.Equal(got, []string{"aws_security_group.redis.id"}) {
			t.Errorf("Redis security groups reference %q", got)
		}
		if got := refs(attr(t, m.resource(t, "aws_elasticache_subnet_group", "redis").Body, "subnet_ids")); !slices.Equal(got, []string{"aws_subnet.private"}) {
			t.Errorf("Redis subnets reference %q", got)
		}
		ingress := 0
		for _, r := range m.find("resource", "aws_vpc_security_group_ingress_rule") {
			sg := refs(attr(t, r.Body, "security_group_id"))
			if !slices.Equal(sg, []string{"aws_security_group.redis.id"}) {
				continue
			}
			ingress++
			if got := optRefs(r.Body, "referenced_security_group_id"); !slices.Equal(got, []string{"aws_security_group.lambda.id"}) {
				t.Errorf("Redis ingress %s admits %q, want the Lambda's group only", r.Labels[1], got)
			}
			if m.str(t, r.Body, "from_port") != m.str(t, rg, "port") || m.str(t, r.Body, "to_port") != m.str(t, rg, "port") {
				t.Errorf("Redis ingress %s is not exactly the Redis port", r.Labels[1])
			}
		}
		if ingress != 1 {
			t.Errorf("Redis has %d ingress rules, want 1", ingress)
		}
	})

	t.Run("EndpointsForDynamoDBAndSSM", func(t *testing.T) {
		ddb := m.resource(t, "aws_vpc_endpoint", "dynamodb").Body
		if m.str(t, ddb, "vpc_endpoint_type") != "Gateway" || !strings.HasSuffix(m.str(t, ddb, "service_name"), ".dynamodb") {
			t.Error("no DynamoDB gateway endpoint")
		}
		if got := refs(attr(t, ddb, "route_table_ids")); !slices.Equal(got, []string{"aws_route_table.private.id"}) {
			t.Errorf("DynamoDB endpoint routes reference %q", got)
		}
		ssm := m.resource(t, "aws_vpc_endpoint", "ssm").Body
		if m.str(t, ssm, "vpc_endpoint_type") != "Interface" || !strings.HasSuffix(m.str(t, ssm, "service_name"), ".ssm") || !m.boolean(t, ssm, "private_dns_enabled") {
			t.Error("no SSM interface endpoint with private DNS: the Lambda could not read its secrets")
		}
		vpc := m.resource(t, "aws_vpc", "main").Body
		if !m.boolean(t, vpc, "enable_dns_support") || !m.boolean(t, vpc, "enable_dns_hostnames") {
			t.Error("VPC DNS is off: interface endpoint private DNS needs it")
		}
		// The Lambda may reach exactly: DynamoDB (prefix list), the SSM
		// endpoint, Redis.
		var egress []string
		for _, r := range m.find("resource", "aws_vpc_security_group_egress_rule") {
			if slices.Equal(refs(attr(t, r.Body, "security_group_id")), []string{"aws_security_group.lambda.id"}) {
				dst := append(optRefs(r.Body, "referenced_security_group_id"), optRefs(r.Body, "prefix_list_id")...)
				egress = append(egress, strings.Join(dst, ",")+":"+m.str(t, r.Body, "to_port"))
			}
		}
		sort.Strings(egress)
		want := []string{"aws_security_group.endpoints.id:443", "aws_security_group.redis.id:6379", "aws_vpc_endpoint.dynamodb.prefix_list_id:443"}
		if !slices.Equal(egress, want) {
			t.Errorf("Lambda egress = %q, want %q", egress, want)
		}
	})
}

// TestTerraform_LambdaWaitsForWhatItsColdStartNeeds: the function's
// arguments reference its subnets and security group, not the routes,
// endpoints, rules, grants and secrets its cold start uses, so Terraform
// could create the function (and the API route traffic to it) first. Every
// such resource of the module must be in its depends_on, so a resource
// added later and forgotten fails here.
func TestTerraform_LambdaWaitsForWhatItsColdStartNeeds(t *testing.T) {
	m := loadTerraform(t, nil)
	fn := m.resource(t, "aws_lambda_function", "api").Body
	deps := map[string]bool{}
	if a, ok := fn.Attributes["depends_on"]; ok {
		tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			t.Fatal("depends_on is not a list")
		}
		for _, e := range tuple.Exprs {
			deps[strings.Join(refs(e), ",")] = true
		}
	}
	needed := map[string]bool{ // resource types the cold start uses
		"aws_route_table_association":         true,
		"aws_vpc_endpoint":                    true,
		"aws_vpc_security_group_egress_rule":  true,
		"aws_vpc_security_group_ingress_rule": true,
		"aws_kms_grant":                       true,
		"aws_ssm_parameter":                   true,
		"aws_iam_role_policy":                 true,
		"aws_ecr_repository_policy":           true,
		"aws_cloudwatch_log_group":            true,
	}
	neededData := map[string]bool{"aws_ssm_parameters_by_path": true}
	var want []string
	for _, b := range m.blocks {
		switch {
		case b.Type == "resource" && needed[b.Labels[0]]:
			if b.Labels[0] == "aws_cloudwatch_log_group" && b.Labels[1] != "lambda" {
				continue // the API's access logs
			}
			want = append(want, b.Labels[0]+"."+b.Labels[1])
		case b.Type == "data" && neededData[b.Labels[0]]:
			want = append(want, "data."+b.Labels[0]+"."+b.Labels[1])
		}
	}
	for _, w := range want {
		if !deps[w] {
			t.Errorf("aws_lambda_function.api does not depend on %s: its first cold starts could run before it exists", w)
		}
	}
}

// optRefs are the references of body's attribute name, if it has one.
func optRefs(body *hclsyntax.Body, name string) []string {
	if a, ok := body.Attributes[name]; ok {
		return refs(a.Expr)
	}
	return nil
}

func TestTerraform_APIGatewayProxiesEverythingToTheLambda(t *testing.T) {
	m := loadTerraform(t, nil)
	api := m.resource(t, "aws_apigatewayv2_api", "http").Body
	integ := m.resource(t, "aws_apigatewayv2_integration", "lambda").Body
	route := m.resource(t, "aws_apigatewayv2_route", "default").Body
	stage := m.resource(t, "aws_apigatewayv2_stage", "default").Body
	perm := m.resource(t, "aws_lambda_permission", "api_gateway").Body
	fn := m.resource(t, "aws_lambda_function", "api").Body

	checks := []struct {
		what      string
		got, want any
	}{
		{"api protocol_type", m.str(t, api, "protocol_type"), "HTTP"},
		{"integration_type", m.str(t, integ, "integration_type"), "AWS_PROXY"},
		{"payload_format_version", m.str(t, integ, "payload_format_version"), "2.0"},
		{"integration_uri", refs(attr(t, integ, "integration_uri")), []string{"aws_lambda_function.api.invoke_arn"}},
		{"route_key", m.str(t, route, "route_key"), "$default"},
		{"route target", refs(attr(t, route, "target")), []string{"aws_apigatewayv2_integration.lambda.id"}},
		{"stage name", m.str(t, stage, "name"), "$default"},
		{"stage auto_deploy", m.boolean(t, stage, "auto_deploy"), true},
		{"permission principal", m.str(t, perm, "principal"), "apigateway.amazonaws.com"},
		{"permission action", m.str(t, perm, "action"), "lambda:InvokeFunction"},
		{"permission function", refs(attr(t, perm, "function_name")), []string{"aws_lambda_function.api.function_name"}},
		{"permission source", refs(attr(t, perm, "source_arn")), []string{"aws_apigatewayv2_api.http.execution_arn"}},
		{"function package_type", m.str(t, fn, "package_type"), "Image"},
		{"function image", refs(attr(t, fn, "image_uri")), []string{"aws_ecr_repository.app.repository_url", "var.image_tag"}},
		{"function architectures", m.strList(t, fn, "architectures"), []string{"arm64"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	timeout, _ := strconv.Atoi(m.str(t, fn, "timeout"))
	integTimeout, _ := strconv.Atoi(m.str(t, integ, "timeout_milliseconds"))
	if timeout*1000 > integTimeout {
		t.Errorf("Lambda timeout %ds outlives the integration's %dms: clients would get 503s for work that still runs", timeout, integTimeout)
	}
}

func TestTerraform_ImageRepositoryAndLogs(t *testing.T) {
	m := loadTerraform(t, nil)
	repo := m.resource(t, "aws_ecr_repository", "app").Body
	if !m.boolean(t, one(t, repo, "image_scanning_configuration").Body, "scan_on_push") {
		t.Error("ECR scan on push is off")
	}
	if got := m.str(t, repo, "image_tag_mutability"); got != "IMMUTABLE" {
		t.Errorf("image tags are %s, want IMMUTABLE (a tag names one build)", got)
	}
	var policy struct {
		Rules []struct {
			RulePriority int
			Selection    struct{ TagStatus, CountType string }
			Action       struct{ Type string }
		}
	}
	raw := m.str(t, m.resource(t, "aws_ecr_lifecycle_policy", "app").Body, "policy")
	if err := json.Unmarshal([]byte(raw), &policy); err != nil || len(policy.Rules) == 0 {
		t.Fatalf("ECR lifecycle policy %s: %v", raw, err)
	}
	for i, r := range policy.Rules {
		if r.Selection.TagStatus == "any" && i != len(policy.Rules)-1 {
			t.Errorf("rule %d selects tagStatus any but is not the last (ECR refuses it)", r.RulePriority)
		}
		if r.Action.Type != "expire" {
			t.Errorf("rule %d action %q", r.RulePriority, r.Action.Type)
		}
	}

	lg := m.resource(t, "aws_cloudwatch_log_group", "lambda").Body
	fnName := m.str(t, m.resource(t, "aws_lambda_function", "api").Body, "function_name")
	if got := m.str(t, lg, "name"); got != "/aws/lambda/"+fnName {
		t.Errorf("log group %s is not the one Lambda writes to (/aws/lambda/%s)", got, fnName)
	}
	for _, name := range []string{"lambda", "api"} {
		if d, _ := strconv.Atoi(m.str(t, m.resource(t, "aws_cloudwatch_log_group", name).Body, "retention_in_days")); d <= 0 {
			t.Errorf("log group %s keeps logs forever", name)
		}
	}
}

func TestTerraform_VariablesAndOutputsAreDocumented(t *testing.T) {
	m := loadTerraform(t, nil)
	doc := readFile(t, "docs/deploy.md")
	for _, kind := range []string{"variable", "output"} {
		for _, b := range m.find(kind) {
			name := b.Labels[0]
			t.Run(kind+"/"+name, func(t *testing.T) {
				if d, ok := b.Body.Attributes["description"]; !ok || strings.TrimSpace(m.known(t, d.Expr, name).AsString()) == "" {
					t.Errorf("%s %s has no description", kind, name)
				}
				if _, ok := b.Body.Attributes["type"]; kind == "variable" && !ok {
					t.Errorf("variable %s has no type", name)
				}
				if !strings.Contains(doc, "`"+name+"`") {
					t.Errorf("docs/deploy.md does not explain %s `%s`", kind, name)
				}
			})
		}
	}
}

// terraformBin is the terraform binary: TASKAPI_TERRAFORM, or terraform in
// PATH or /usr/local/bin.
func terraformBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TASKAPI_TERRAFORM")
	if bin == "" {
		bin, _ = exec.LookPath("terraform")
	}
	if bin == "" {
		if _, err := os.Stat("/usr/local/bin/terraform"); err == nil {
			bin = "/usr/local/bin/terraform"
		}
	}
	if bin == "" {
		requireOrSkip(t, "terraform is not installed (set TASKAPI_TERRAFORM or put it in PATH)")
	}
	return bin
}

// terraform runs bin with args in dir, offline and without colours.
func terraform(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestTerraform_Formatted runs `terraform fmt -check` (offline) when the
// terraform binary is available.
func TestTerraform_Formatted(t *testing.T) {
	bin := terraformBin(t)
	if out, err := terraform(t, bin, repoRoot(t), "fmt", "-check", "-recursive", "-diff", "-no-color", "terraform"); err != nil {
		t.Fatalf("terraform fmt -check: %v\n%s", err, out)
	}
}

// tfPluginDir holds the providers `terraform init -plugin-dir` installs
// from: the registry is unreachable here, and machines of this kind ship
// hashicorp/aws there (the module needs no other provider).
func tfPluginDir() string {
	if d := os.Getenv("TASKAPI_TF_PLUGIN_DIR"); d != "" {
		return d
	}
	return "/opt/tf-plugins"
}

// TestTerraform_ValidateAndTest runs what only Terraform itself can check,
// with the real AWS provider's schemas and validations: `terraform validate`,
// and `terraform test` (terraform/tests/*.tftest.hcl, against
// mock_provider "aws") one file per subtest. It works on a copy of the
// module, so nothing (.terraform/, the lock file, about 700 MB of provider
// that init copies) lands in the checkout.
func TestTerraform_ValidateAndTest(t *testing.T) {
	plugins := tfPluginDir()
	if _, err := os.Stat(filepath.Join(plugins, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		// Not requireOrSkip: the registry being unreachable, nothing the
		// suite can install provides the provider.
		t.Skipf("no hashicorp/aws provider in %s (set TASKAPI_TF_PLUGIN_DIR): terraform validate and terraform test need it", plugins)
	}
	bin := terraformBin(t)
	// mock_provider came with Terraform 1.7 (scripts/test.sh builds an
	// older one only where none is installed).
	if out, err := terraform(t, bin, repoRoot(t), "version", "-json"); err != nil {
		t.Fatalf("terraform version: %v\n%s", err, out)
	} else if v := regexp.MustCompile(`"terraform_version":\s*"1\.([0-9]+)\.`).FindStringSubmatch(out); v == nil {
		t.Fatalf("terraform version -json: no 1.x version in %s", out)
	} else if minor, _ := strconv.Atoi(v[1]); minor < 7 {
		t.Fatalf("terraform 1.%s is installed: terraform test with mock_provider needs 1.7 or later (set TASKAPI_TERRAFORM)", v[1])
	}
	dir := t.TempDir()
	src := filepath.Join(repoRoot(t), "terraform")
	var testFiles []string
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".terraform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !strings.HasSuffix(path, ".tf") && !strings.HasSuffix(path, ".hcl") {
			return nil // state, plans and tfvars stay behind
		}
		if strings.HasSuffix(path, ".tftest.hcl") {
			testFiles = append(testFiles, filepath.ToSlash(rel))
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying terraform/: %v", err)
	}
	if len(testFiles) == 0 {
		t.Fatal("terraform/tests has no .tftest.hcl files")
	}

	if out, err := terraform(t, bin, dir, "init", "-backend=false", "-plugin-dir="+plugins, "-input=false", "-no-color"); err != nil {
		t.Fatalf("terraform init -backend=false -plugin-dir=%s: %v\n%s", plugins, err, out)
	}
	t.Run("validate", func(t *testing.T) {
		if out, err := terraform(t, bin, dir, "validate", "-no-color"); err != nil {
			t.Fatalf("terraform validate: %v\n%s", err, out)
		}
	})
	for _, f := range testFiles {
		t.Run("test/"+strings.TrimSuffix(filepath.Base(f), ".tftest.hcl"), func(t *testing.T) {
			if testing.Short() && !strings.HasSuffix(f, "deploy.tftest.hcl") {
				// scripts/test.sh -quick: the deploy runs only (the full
				// suite, and CI, run every file).
				t.Skip("-short: only deploy.tftest.hcl")
			}
			out, err := terraform(t, bin, dir, "test", "-no-color", "-filter="+f)
			if err != nil {
				t.Fatalf("terraform test -filter=%s: %v\n%s", f, err, out)
			}
			if !strings.Contains(out, "Success!") {
				t.Fatalf("terraform test -filter=%s ran nothing:\n%s", f, out)
			}
			// One line per run, e.g. `run "full_apply_arm64"... pass`.
			for _, l := range strings.Split(out, "\n") {
				if l = strings.TrimSpace(l); strings.HasPrefix(l, "run ") {
					t.Log(l)
				}
			}
		})
	}
}

// requireOrSkip skips t because a tool is missing, or fails it when the full
// suite requires every service.
func requireOrSkip(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("TASKAPI_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s (required: TASKAPI_TEST_REQUIRE_SERVICES=1)", reason)
	}
	t.Skip(reason)
}

// TestTerraform_ValidationsAgreeWithConfigLoad evaluates the validations
// of jwt_ttl and cors_allowed_origins and loads the Lambda's environment
// with the same value through config.Load: a value Terraform accepts must
// start the function (else it applies, then fails every cold start), and
// one the function refuses must fail the plan. Terraform is stricter on
// purpose only where listed (stricter).
func TestTerraform_ValidationsAgreeWithConfigLoad(t *testing.T) {
	load := func(m *tfModule) error {
		env, _ := lambdaEnv(t, m)
		env["AWS_REGION"] = "us-east-1"
		env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9001"
		_, err := config.Load(func(k string) string { return env[k] })
		return err
	}
	tests := []struct {
		variable string
		value    cty.Value
		stricter bool // Terraform refuses what config.Load accepts
	}{
		{variable: "jwt_ttl", value: cty.StringVal("1h")},
		{variable: "jwt_ttl", value: cty.StringVal("1m")},
		{variable: "jwt_ttl", value: cty.StringVal("59s")},
		{variable: "jwt_ttl", value: cty.StringVal("60")},
		{variable: "jwt_ttl", value: cty.StringVal("59")},
		{variable: "jwt_ttl", value: cty.StringVal("+60")},
		{variable: "jwt_ttl", value: cty.StringVal("-3600")},
		{variable: "jwt_ttl", value: cty.StringVal("1h30m")},
		{variable: "jwt_ttl", value: cty.StringVal("1.5h")},
		{variable: "jwt_ttl", value: cty.StringVal("168h")},
		{variable: "jwt_ttl", value: cty.StringVal("604800")},
		{variable: "jwt_ttl", value: cty.StringVal("604801")},
		{variable: "jwt_ttl", value: cty.StringVal("168h0m1s")},
		{variable: "jwt_ttl", value: cty.StringVal("720h")},
		{variable: "jwt_ttl", value: cty.StringVal("1d")},
		{variable: "jwt_ttl", value: cty.StringVal("0")},
		{variable: "jwt_ttl", value: cty.StringVal("-1h")},
		{variable: "jwt_ttl", value: cty.StringVal("1h "), stricter: true}, // config.Load trims it; a typo in a tfvars
		{variable: "jwt_ttl", value: cty.StringVal(""), stricter: true},    // the application would fall back to 1h
		{variable: "cors_allowed_origins", value: cty.ListValEmpty(cty.String)},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("*")})},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("https://app.example.com")})},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("https://app.example.com/")})},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("http://localhost:3000"), cty.StringVal("https://[::1]:8443")})},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("https://app.example.com/app")})},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("app.example.com")})},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("ftp://app.example.com")})},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("https://")})},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("https://a.example.com,https://b.example.com")}), stricter: true}, // two origins in one: joined, then split
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("https://app.example.com?x=1")}), stricter: true},
		{variable: "cors_allowed_origins", value: cty.TupleVal([]cty.Value{cty.StringVal("HTTPS://app.example.com")}), stricter: true},
	}
	for _, tc := range tests {
		t.Run(tc.variable+"="+tc.value.GoString(), func(t *testing.T) {
			m := loadTerraform(t, map[string]cty.Value{tc.variable: tc.value})
			tf := m.validates(t, tc.variable)
			err := load(m)
			switch {
			case tf && err != nil:
				t.Errorf("Terraform accepts it, but the function would not start: %v", err)
			case !tf && err == nil && !tc.stricter:
				t.Errorf("Terraform refuses what config.Load accepts")
			case tc.stricter && (tf || err != nil):
				t.Errorf("listed as refused by Terraform only, but Terraform accepts=%v and config.Load says %v", tf, err)
			}
		})
	}
}

// TestTerraform_TestsAssertWhatTheCodeUses ties the literal values
// terraform/tests asserts to the code: the index names store/dynamo
// queries, the one SSM call internal/ssm makes, and every variable
// of the Lambda's environment (which config.Load reads, see
// TestTerraform_LambdaEnvironmentIsAValidProductionConfig).
func TestTerraform_TestsAssertWhatTheCodeUses(t *testing.T) {
	m := loadTerraform(t, nil)
	deploy := readFile(t, "terraform/tests/deploy.tftest.hcl")
	want := []string{
		"/index/" + dynamo.EmailIndex + `"`,
		"/index/" + dynamo.StatusIndex + `"`,
		"/index/" + dynamo.UpdatedIndex + `"`,
		"/index/" + dynamo.DueIndex + `"`,
		"/index/" + dynamo.StatusUpdatedIndex + `"`,
		"/index/" + dynamo.StatusDueIndex + `"`,
		`toset(["ssm:GetParameters"])`,
		`payload_format_version == "2.0"`,
		`architectures == tolist(["arm64"])`,
		`architectures == tolist(["x86_64"])`,
	}
	env, _ := lambdaEnv(t, m)
	for k := range env {
		want = append(want, "\n      "+k+" ")
	}
	for _, w := range want {
		if !strings.Contains(deploy, w) {
			t.Errorf("terraform/tests/deploy.tftest.hcl does not assert %q", strings.TrimSpace(w))
		}
	}
}

// deployBlock is the first ```sh block of the Markdown section that starts
// with heading, as command lines: continuation lines joined, comments and
// blank lines dropped.
func deployBlock(t *testing.T, file, heading string) []string {
	t.Helper()
	md := readFile(t, file)
	start := strings.Index(md, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("%s has no section %q", file, heading)
	}
	sec := md[start+len(heading)+2:]
	if end := strings.Index(sec, "\n## "); end >= 0 {
		sec = sec[:end]
	}
	_, block, ok := strings.Cut(sec, "```sh\n")
	if ok {
		block, _, ok = strings.Cut(block, "\n```")
	}
	if !ok {
		t.Fatalf("%s, %s: no ```sh block", file, heading)
	}
	comment := regexp.MustCompile(`(^|\s+)#(\s.*)?$`)
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
		if l = strings.TrimSpace(comment.ReplaceAllString(l, "")); l != "" {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
	}
	return lines
}

// TestREADME_DeployBlockMatchesTheTerraform checks the README's deploy
// commands (and docs/deploy.md's, which must be the same) against
// terraform/: what they name exists, the order works on a first deploy,
// and the region and platform come from the variables.
func TestREADME_DeployBlockMatchesTheTerraform(t *testing.T) {
	m := loadTerraform(t, nil)
	has := func(kind string, labels ...string) bool { return len(m.find(kind, labels...)) > 0 }
	readme := deployBlock(t, "README.md", "## Deploying to AWS (one Lambda image)")
	docs := deployBlock(t, "docs/deploy.md", "## Deploying")

	t.Run("SameAsDocsDeploy", func(t *testing.T) {
		var d []string
		for _, l := range docs {
			if !strings.HasPrefix(l, "curl ") {
				d = append(d, l)
			}
		}
		if !slices.Equal(readme, d) {
			t.Errorf("the README's deploy block and docs/deploy.md's differ:\nREADME:\n  %s\ndocs/deploy.md:\n  %s", strings.Join(readme, "\n  "), strings.Join(d, "\n  "))
		}
	})

	for name, lines := range map[string][]string{"README.md": readme, "docs/deploy.md": docs} {
		t.Run(name, func(t *testing.T) {
			all := strings.Join(lines, "\n")
			if !slices.Contains(lines, "cd terraform && terraform init") {
				t.Errorf("the block does not start with cd terraform && terraform init")
			}
			for _, mm := range regexp.MustCompile(`-var[ =]([A-Za-z0-9_]+)=`).FindAllStringSubmatch(all, -1) {
				if !has("variable", mm[1]) {
					t.Errorf("-var %s: terraform/ declares no such variable", mm[1])
				}
			}
			for _, mm := range regexp.MustCompile(`-target=(\S+)`).FindAllStringSubmatch(all, -1) {
				typ, name, _ := strings.Cut(mm[1], ".")
				if !has("resource", typ, name) {
					t.Errorf("-target=%s: terraform/ has no such resource", mm[1])
				}
			}
			for _, mm := range regexp.MustCompile(`-var-file=(\S+)`).FindAllStringSubmatch(all, -1) {
				// The operator's file is a copy of example.tfvars, whose
				// every setting must be a variable.
				if !strings.Contains(all, "cp example.tfvars "+mm[1]) {
					t.Errorf("-var-file=%s is not made from example.tfvars in the block", mm[1])
				}
			}
			for _, mm := range regexp.MustCompile(`terraform output -raw ([A-Za-z0-9_]+)`).FindAllStringSubmatch(all, -1) {
				if !has("output", mm[1]) {
					t.Errorf("terraform output %s: terraform/ has no such output", mm[1])
				}
			}
			// Region and architecture come from the variables, not from
			// the block.
			if r := regexp.MustCompile(`\b[a-z]{2}(-gov)?-[a-z]+-[0-9]\b`).FindString(all); r != "" {
				t.Errorf("the block hard-codes the region %s (use terraform output -raw region)", r)
			}
			if p := regexp.MustCompile(`linux/(arm64|amd64)`).FindString(all); p != "" {
				t.Errorf("the block hard-codes the platform %s (use terraform output -raw image_platform)", p)
			}
			if !strings.Contains(all, `--platform "$(terraform output -raw image_platform)"`) {
				t.Errorf("docker buildx build does not take --platform from the image_platform output")
			}

			// The order of a first deploy: targeted apply of the repository,
			// then the secrets and the push, then the full apply.
			idx := func(pred func(string) bool) int { return slices.IndexFunc(lines, pred) }
			targeted := idx(func(l string) bool {
				return strings.HasPrefix(l, "terraform apply ") && strings.Contains(l, "-target=aws_ecr_repository.app")
			})
			full := idx(func(l string) bool {
				return strings.HasPrefix(l, "terraform apply ") && !strings.Contains(l, "-target")
			})
			push := idx(func(l string) bool {
				return strings.HasPrefix(l, "docker buildx build ") && strings.Contains(l, "--push")
			})
			if targeted < 0 || full < 0 || push < 0 || !(targeted < push && push < full) {
				t.Fatalf("want the targeted apply of aws_ecr_repository.app, then the push, then the full apply: %d, %d, %d", targeted, push, full)
			}
			for _, l := range lines[targeted+1 : full] {
				for _, mm := range regexp.MustCompile(`terraform output -raw ([A-Za-z0-9_]+)`).FindAllStringSubmatch(l, -1) {
					out := m.find("output", mm[1])
					if len(out) == 0 {
						continue
					}
					// A targeted apply only sets outputs that depend on
					// its target.
					var deps []string
					for _, a := range out[0].Body.Attributes {
						deps = append(deps, refs(a.Expr)...)
					}
					if !slices.ContainsFunc(deps, func(r string) bool { return strings.HasPrefix(r, "aws_ecr_repository.app") }) {
						t.Errorf("output %s is read after the targeted apply, which does not set it (it does not depend on aws_ecr_repository.app)", mm[1])
					}
				}
			}
			// Without create_secret_parameters=true, the two parameters the
			// plan requires are created before the full apply.
			if !strings.Contains(lines[full], "create_secret_parameters=true") {
				before := strings.Join(lines[:full], "\n")
				for _, out := range []string{"jwt_secret_parameter_name", "pass_secret_key_parameter_name"} {
					if !strings.Contains(before, "terraform output -raw "+out) || !strings.Contains(before, "aws ssm put-parameter") || !strings.Contains(before, "--type SecureString") {
						t.Errorf("the block does not create the SecureString parameter %s before the full apply: the plan would stop", out)
					}
				}
			}
		})
	}

	t.Run("ExampleTfvarsSetsOnlyVariables", func(t *testing.T) {
		f, diags := hclparse.NewParser().ParseHCL([]byte(readFile(t, "terraform/example.tfvars")), "example.tfvars")
		if diags.HasErrors() {
			t.Fatalf("example.tfvars: %s", diags.Error())
		}
		attrs, _ := f.Body.JustAttributes()
		for name := range attrs {
			if !has("variable", name) {
				t.Errorf("example.tfvars sets %s, which terraform/ does not declare", name)
			}
		}
	})
}
