package resolvers

import (
	"bufio"
	"context"
	"errors"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"github.com/taskapi/taskapi/core"
)

// Limits of the subscription transports (Subscription in schema.graphqls;
// core/events.go has the per-user ones).
const (
	// wsInitTimeout is how long a WebSocket may stay without its
	// connection_init.
	wsInitTimeout = 10 * time.Second
	// wsPingInterval: the server pings every 20 s and closes a connection
	// whose client has not answered within twice that, so a vanished
	// client's subscriptions end.
	wsPingInterval = 20 * time.Second
	// wsMaxMessage bounds one client message: a subscribe is a small
	// document (the HTTP body limit is for mutations' inputs).
	wsMaxMessage = 64 << 10
	// sseKeepAlive keeps proxies from closing an idle event stream.
	sseKeepAlive = 15 * time.Second
	// closeForbidden is graphql-transport-ws's close code for a refused
	// connection_init (a token that does not authenticate).
	closeForbidden = 4403
)

// liveTransports are the subscription transports: WebSocket with the
// graphql-transport-ws subprotocol (and the older graphql-ws, which
// gqlgen also speaks), and Server-Sent Events in graphql-sse's distinct
// connections mode. origins are the browser origins a WebSocket may come
// from besides the API's own ("*": any).
func liveTransports(svc *core.Service, origins []string) []graphql.Transport {
	accept := coderws.AcceptOptions{}
	for _, o := range origins {
		if o == "*" {
			accept.InsecureSkipVerify = true // any origin, as CORS allows
			break
		}
		if _, host, ok := strings.Cut(o, "://"); ok {
			accept.OriginPatterns = append(accept.OriginPatterns, host)
		}
	}
	limit := int64(wsMaxMessage)
	return []graphql.Transport{
		transport.Websocket{
			Implementation:   transport.CoderWebsocketImplementation{AcceptOptions: accept},
			InitFunc:         wsInit(svc),
			InitTimeout:      wsInitTimeout,
			PingPongInterval: wsPingInterval,
			PayloadReadLimit: &limit,
		},
		sseTransport{transport.SSE{KeepAlivePingInterval: sseKeepAlive}},
	}
}

// wsInit authenticates a WebSocket from connection_init's payload: the
// token in Authorization ("Bearer …", as a header would carry it) or
// authorization. None leaves the connection anonymous (taskEvents then
// answers UNAUTHENTICATED); one that does not authenticate closes it with
// 4403.
func wsInit(svc *core.Service) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		token := p.Authorization()
		if token == "" {
			token = p.GetString("authorization")
		}
		if scheme, rest, ok := strings.Cut(strings.TrimSpace(token), " "); ok && strings.EqualFold(scheme, "bearer") {
			token = strings.TrimSpace(rest)
		}
		ctx = context.WithValue(core.WithBearer(ctx, token), wsConnection{}, true)
		if token == "" {
			return ctx, nil, nil
		}
		if _, err := svc.Actor(ctx); err != nil {
			ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
			msg := "Forbidden"
			if e, ok := core.AsError(err); ok && e.Message != "" {
				msg = e.Message
			}
			return transport.AppendCloseReason(ctx, msg), nil, errors.New(msg)
		}
		return ctx, nil, nil
	}
}

// wsConnection marks the context of a WebSocket's operations.
type wsConnection struct{}

// renewWSAuth authenticates each operation of a WebSocket anew
// (core.Renewed): the connection's context lives for hours, and a
// memoized authentication would keep a deactivated user's queries going.
func renewWSAuth(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if ctx.Value(wsConnection{}) != nil {
		ctx = core.Renewed(ctx)
	}
	return next(ctx)
}

// sseTransport is gqlgen's SSE for the requests graphql-sse's clients
// send: POST of JSON that accepts only text/event-stream. A client that
// merely lists it among others (urql's default Accept) gets the usual
// HTTP answer (httpTransport).
type sseTransport struct{ transport.SSE }

// Do answers as gqlgen's SSE does, with the Cache-Control every answer of
// the API carries (no-store: events are the caller's data), where gqlgen
// would set no-cache.
func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.SSE.Do(noStore{w}, r, exec)
}

// noStore keeps Cache-Control: no-store on an answer whatever its handler
// sets.
type noStore struct{ http.ResponseWriter }

func (n noStore) WriteHeader(code int) {
	n.Header().Set("Cache-Control", "no-store")
	n.ResponseWriter.WriteHeader(code)
}

func (n noStore) Write(b []byte) (int, error) {
	n.Header().Set("Cache-Control", "no-store") // before the first write only; later it changes nothing
	return n.ResponseWriter.Write(b)
}

func (n noStore) Flush() { _ = http.NewResponseController(n.ResponseWriter).Flush() }

func (n noStore) Unwrap() http.ResponseWriter { return n.ResponseWriter }

func (t sseTransport) Supports(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Accept"))
	return err == nil && mt == "text/event-stream" && !strings.Contains(r.Header.Get("Accept"), ",") && t.SSE.Supports(r)
}

// liveWriter lets the long-lived answers through the middleware's
// response writers: gqlgen's SSE asserts http.Flusher and the WebSocket
// library http.Hijacker directly, which the wrappers reach through Unwrap
// (http.ResponseController) only. It also lifts the server's write and
// read deadlines, which bound ordinary requests, for the stream.
type liveWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func newLiveWriter(w http.ResponseWriter) liveWriter {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	return liveWriter{w, rc}
}

func (w liveWriter) Flush() { _ = w.rc.Flush() }

func (w liveWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.rc.Hijack() }

func (w liveWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// isLive reports whether r asks for a subscription transport.
func isLive(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" || (sseTransport{}).Supports(r)
}
