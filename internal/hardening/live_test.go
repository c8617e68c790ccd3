package hardening_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/taskapi/taskapi/core"
	"github.com/taskapi/taskapi/internal/testenv"
	"github.com/taskapi/taskapi/store/cache"
)

// wsClient speaks graphql-transport-ws, as graphql-ws (npm) does.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens /graphql as a WebSocket and sends connection_init with
// token (none if ""); it returns the client and the server's first answer.
func (e *env) dialWS(t testing.TB, token string) (*wsClient, wsMessage, error) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/graphql"
	conn, resp, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, wsMessage{}, err
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "graphql-transport-ws" {
		t.Fatalf("subprotocol %q", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	c := &wsClient{t: t, conn: conn}
	init := wsMessage{Type: "connection_init"}
	if token != "" {
		init.Payload, _ = json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	}
	c.send(init)
	m, err := c.read(3 * time.Second)
	return c, m, err
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	b, _ := json.Marshal(m)
	if err := c.conn.Write(c.t.Context(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next message that is not a ping (answered with pong).
func (c *wsClient) read(within time.Duration) (wsMessage, error) {
	ctx, cancel := context.WithTimeout(c.t.Context(), within)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("not JSON: %s", b)
		}
		if m.Type == "ping" {
			c.send(wsMessage{Type: "pong"})
			continue
		}
		return m, nil
	}
}

func (c *wsClient) subscribe(id, query string) {
	c.t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query})
	c.send(wsMessage{ID: id, Type: "subscribe", Payload: p})
}

// event reads the next message and decodes a next's payload.
func (c *wsClient) event(within time.Duration) (wsMessage, gqlReply) {
	c.t.Helper()
	m, err := c.read(within)
	if err != nil {
		c.t.Fatalf("no message within %v: %v", within, err)
	}
	var g gqlReply
	if m.Type == "next" {
		if err := json.Unmarshal(m.Payload, &g); err != nil {
			c.t.Fatalf("next payload: %s", m.Payload)
		}
	}
	return m, g
}

const taskEventsQuery = `subscription { taskEvents { kind taskId task { title status } stats { pending complete total } } }`

// TestSubscriptionsOverWebSocketAndSSE subscribes to taskEvents as a
// front end would, over graphql-transport-ws and over SSE, and writes
// through both APIs: every change reaches its owner's subscriptions, in
// order, with the owner's stats, and nothing reaches another user's; an
// admin hears user changes; a bad token closes the socket with 4403; the
// end of the session ends the subscription with UNAUTHENTICATED.
func TestSubscriptionsOverWebSocketAndSSE(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			ann, bob, admin := e.mustUser(t, "ann"), e.mustUser(t, "bob"), e.mustAdmin(t)

			ws, ack, err := e.dialWS(t, ann.Token)
			if err != nil || ack.Type != "connection_ack" {
				t.Fatalf("connection_init: %+v, %v", ack, err)
			}
			ws.subscribe("1", taskEventsQuery)
			bobWS, _, err := e.dialWS(t, bob.Token)
			if err != nil {
				t.Fatal(err)
			}
			bobWS.subscribe("1", taskEventsQuery)
			adminWS, _, err := e.dialWS(t, admin.Token)
			if err != nil {
				t.Fatal(err)
			}
			adminWS.subscribe("u", `subscription { userEvents { kind user { email username } } }`)

			sse := e.openSSE(t, ann.Token, taskEventsQuery)
			time.Sleep(200 * time.Millisecond) // the subscriptions are registered

			// A change through REST, then through GraphQL, then a delete.
			created := e.rest(t, http.MethodPost, "/api/v1/tasks/create-task", ann.Token, vars{"title": "live"})
			var task struct {
				TaskID string `json:"task_id"`
			}
			if err := json.Unmarshal(created.body, &task); err != nil || task.TaskID == "" {
				t.Fatalf("create-task: %s", created)
			}
			if g := e.gql(t, ann.Token, `mutation($id: ID!) { updateTask(id: $id, input: {status: COMPLETE}) { id } }`, vars{"id": task.TaskID}); !g.ok() {
				t.Fatalf("updateTask: %s", g)
			}
			if g := e.gql(t, ann.Token, `mutation($id: ID!) { deleteTask(id: $id) }`, vars{"id": task.TaskID}); !g.ok() {
				t.Fatalf("deleteTask: %s", g)
			}
			want := []string{
				`{"taskEvents":{"kind":"CREATED","taskId":"` + task.TaskID + `","task":{"title":"live","status":"PENDING"},"stats":`,
				`{"taskEvents":{"kind":"UPDATED","taskId":"` + task.TaskID + `","task":{"title":"live","status":"COMPLETE"},"stats":`,
				`{"taskEvents":{"kind":"DELETED","taskId":"` + task.TaskID + `","task":null,"stats":{"pending":0,"complete":0,"total":0}}}`,
			}
			for i, w := range want {
				m, g := ws.event(3 * time.Second)
				if m.Type != "next" || m.ID != "1" || !strings.HasPrefix(string(g.Data), w) {
					t.Fatalf("WebSocket event %d: %s %s, want %s…", i, m.Type, m.Payload, w)
				}
				if s := sse.next(t); !strings.HasPrefix(s, `{"data":`+w) {
					t.Fatalf("SSE event %d: %s, want data %s…", i, s, w)
				}
			}
			if m, err := bobWS.read(300 * time.Millisecond); err == nil {
				t.Fatalf("another user's subscription got %s %s", m.Type, m.Payload)
			}

			// An admin hears a registration.
			newcomer := e.mustUser(t, "newcomer")
			m, g := adminWS.event(3 * time.Second)
			if m.Type != "next" || !strings.Contains(string(g.Data), `"kind":"CREATED"`) || !strings.Contains(string(g.Data), newcomer.Email) {
				t.Fatalf("userEvents: %s %s", m.Type, m.Payload)
			}

			// A token that does not authenticate: 4403 at connection_init.
			if _, _, err := e.dialWS(t, "not-a-token"); websocket.CloseStatus(err) != 4403 {
				t.Fatalf("a bad token's socket: %v, want close 4403", err)
			}
			// Over plain HTTP a subscription is refused, not held open.
			if g := e.gql(t, ann.Token, taskEventsQuery, nil); g.status != http.StatusBadRequest {
				t.Fatalf("a subscription over POST: %s", g.reply)
			}

			// The session ends: within a recheck the subscription says so
			// and completes.
			if g := e.gql(t, ann.Token, `mutation { logoutEverywhere }`, nil); !g.ok() {
				t.Fatalf("logoutEverywhere: %s", g)
			}
			m, g = ws.event(core.SubscriptionRecheck + 2*time.Second)
			if m.Type != "next" || len(g.Errors) != 1 || g.Errors[0].code() != "UNAUTHENTICATED" {
				t.Fatalf("after logout: %s %s", m.Type, m.Payload)
			}
			if m, _ := ws.event(time.Second); m.Type != "complete" {
				t.Fatalf("after its error the subscription sent %s, want complete", m.Type)
			}
		})
	}
}

// sseStream is an open graphql-sse subscription.
type sseStream struct {
	events chan string
}

// openSSE subscribes over Server-Sent Events; next returns each event's
// data.
func (e *env) openSSE(t testing.TB, token, query string) *sseStream {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/graphql", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sseStream{events: make(chan string, 16)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.HasPrefix(data, "{") {
				s.events <- data
			}
		}
		close(s.events)
	}()
	return s
}

func (s *sseStream) next(t testing.TB) string {
	t.Helper()
	select {
	case d, ok := <-s.events:
		if !ok {
			t.Fatal("the SSE stream ended")
		}
		return d
	case <-time.After(3 * time.Second):
		t.Fatal("no SSE event within 3 s")
	}
	return ""
}

// TestSubscriptionsAcrossInstances: two instances over one store and one
// Redis, each with its Redis event bus: a write on A reaches a subscriber
// on B, and nobody else's.
func TestSubscriptionsAcrossInstances(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := redis.NewClient(cache.ClientOptions(srv.Addr()))
	t.Cleanup(func() { _ = rdb.Close() })
	inner := openEmbedded(t)
	ns, channel := "live:"+randomHex(t, 4), "live-events-"+randomHex(t, 4)
	instance := func() *env {
		bus := cache.NewBus(rdb, cache.BusOptions{Channel: channel})
		t.Cleanup(func() { _ = bus.Close() })
		st := stores{served: cache.New(inner.truth, rdb, cache.Options{Namespace: ns}), truth: inner.truth, rdb: rdb, redis: srv}
		return newEnv(t, st, withEvents(bus))
	}
	a, b := instance(), instance()
	ann, bob := a.mustUser(t, "ann"), a.mustUser(t, "bob")
	annWS, _, err := b.dialWS(t, ann.Token)
	if err != nil {
		t.Fatal(err)
	}
	annWS.subscribe("1", taskEventsQuery)
	bobWS, _, err := b.dialWS(t, bob.Token)
	if err != nil {
		t.Fatal(err)
	}
	bobWS.subscribe("1", taskEventsQuery)
	time.Sleep(200 * time.Millisecond)

	if r := a.rest(t, http.MethodPost, "/api/v1/tasks/create-task", ann.Token, vars{"title": "from A"}); r.status != http.StatusOK {
		t.Fatalf("create-task on A: %s", r)
	}
	m, g := annWS.event(3 * time.Second)
	if m.Type != "next" || !strings.Contains(string(g.Data), `"kind":"CREATED"`) || !strings.Contains(string(g.Data), `"title":"from A"`) {
		t.Fatalf("B's subscriber: %s %s", m.Type, m.Payload)
	}
	if m, err := bobWS.read(300 * time.Millisecond); err == nil {
		t.Fatalf("another user's subscriber on B got %s %s", m.Type, m.Payload)
	}
}

// TestWebSocketOperationsAreAuthorizedAsTheyRun: a WebSocket lives for
// hours; a query sent over it after its user was deactivated is refused,
// as a request would be, although the connection authenticated when the
// user was active.
func TestWebSocketOperationsAreAuthorizedAsTheyRun(t *testing.T) {
	e := newEnv(t, openEmbedded(t))
	ann, admin := e.mustUser(t, "ann"), e.mustAdmin(t)
	ws, ack, err := e.dialWS(t, ann.Token)
	if err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v, %v", ack, err)
	}
	ws.subscribe("1", `{ me { id } }`)
	if m, g := ws.event(3 * time.Second); m.Type != "next" || len(g.Errors) != 0 || !strings.Contains(string(g.Data), ann.ID) {
		t.Fatalf("a query over the socket: %s %s", m.Type, m.Payload)
	}
	if m, _ := ws.event(3 * time.Second); m.Type != "complete" {
		t.Fatalf("after the query's answer: %s", m.Type)
	}
	if g := e.gql(t, admin.Token, `mutation($id: ID!) { updateUser(id: $id, input: {activationStatus: INACTIVE}) { id } }`, vars{"id": ann.ID}); !g.ok() {
		t.Fatalf("deactivate: %s", g)
	}
	ws.subscribe("2", `{ me { id } }`)
	m, err := ws.read(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var g gqlReply
	if m.Type == "next" {
		_ = json.Unmarshal(m.Payload, &g)
	} else if m.Type == "error" {
		var errs []gqlError
		_ = json.Unmarshal(m.Payload, &errs)
		g.Errors = errs
	}
	if len(g.Errors) == 0 || g.Data != nil && string(g.Data) != "null" {
		t.Fatalf("a deactivated user's query over the old socket: %s %s", m.Type, m.Payload)
	}
}
