package lambdaserve

import (
	"net/http"
)

// completeResponses gives h the response-writer semantics of net/http, which
// the proxy's writers lack: a handler that writes nothing answers 200 (the
// proxy would fail with "Status code not set"), the first WriteHeader wins
// (the proxy keeps the last), headers changed after WriteHeader are not
// sent, informational (1xx) statuses are dropped (Lambda has no way to send
// them), and a HEAD response has no body.
func completeResponses(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &completeWriter{w: w, header: make(http.Header), head: r.Method == http.MethodHead}
		h.ServeHTTP(cw, r)
		cw.WriteHeader(http.StatusOK) // no-op once the handler has written
	})
}

type completeWriter struct {
	w      http.ResponseWriter
	header http.Header
	head   bool
	wrote  bool
}

var (
	_ http.ResponseWriter = (*completeWriter)(nil)
	_ http.Flusher        = (*completeWriter)(nil)
)

func (cw *completeWriter) Header() http.Header { return cw.header }

func (cw *completeWriter) WriteHeader(code int) {
	if cw.wrote || (code >= 100 && code < 200) {
		return
	}
	cw.wrote = true
	dst := cw.w.Header()
	for k, v := range cw.header {
		dst[k] = append([]string(nil), v...)
	}
	cw.w.WriteHeader(code)
}

func (cw *completeWriter) Write(b []byte) (int, error) {
	if !cw.wrote {
		if cw.header.Get("Content-Type") == "" && len(b) > 0 && !cw.head {
			cw.header.Set("Content-Type", http.DetectContentType(b))
		}
		cw.WriteHeader(http.StatusOK)
	}
	if cw.head {
		return len(b), nil
	}
	return cw.w.Write(b)
}

// Flush is a no-op: a Lambda response is sent whole when the handler
// returns. It exists so handlers that flush (streaming transports) work.
func (cw *completeWriter) Flush() {}
