// Command baseline is the physical limit taskapi is measured against: a
// plain net/http server that answers each path with the exact response
// (status, headers, body) taskapi gave for it, as captured by the benchmark
// suite, and does nothing else.
//
//	baseline -addr 127.0.0.1:PORT -responses responses.json
//
// responses.json maps a path to {"status": 200, "header": {...}, "body": "..."}.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
)

type response struct {
	Status int                 `json:"status"`
	Header map[string][]string `json:"header"`
	Body   string              `json:"body"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	file := flag.String("responses", "", "JSON file mapping each path to the response to give")
	flag.Parse()
	if err := run(*addr, *file); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(addr, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var rs map[string]response
	if err := json.Unmarshal(raw, &rs); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	mux := http.NewServeMux()
	for path, r := range rs {
		body := []byte(r.Body)
		header := http.Header(r.Header).Clone()
		header.Set("Content-Length", strconv.Itoa(len(body)))
		mux.HandleFunc(path, func(w http.ResponseWriter, req *http.Request) {
			_, _ = io.Copy(io.Discard, req.Body) // read the request as taskapi must
			h := w.Header()
			for k, v := range header {
				h[k] = v
			}
			w.WriteHeader(r.Status)
			_, _ = w.Write(body)
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"ok"}`) })
	return http.ListenAndServe(addr, mux)
}
