package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/taskapi/taskapi/core"
)

// The embedded store is one bbolt file that one process at a time may open
// (it holds an exclusive lock), so "taskapi create-admin" cannot open it
// while "taskapi serve" runs. The server therefore answers create-admin
// itself on a unix socket beside the database, DATA_DIR/taskapi.sock.
//
// Who may ask: whoever may connect to the socket, which is owner-only
// (0600) from its first moment (listenOwnerOnly): the account the server
// runs as, or root, who could as well read the database file. The socket
// offers nothing else, and never sends a password or a hash back.

// controlSocket is the socket's name in DATA_DIR.
const controlSocket = "taskapi.sock"

// adminRequest and adminResult are what create-admin and the server say
// over the socket.
type adminRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Username string `json:"username"`
}

type adminResult struct {
	ID      string `json:"id,omitempty"`
	Email   string `json:"email,omitempty"`
	Created bool   `json:"created,omitempty"`
	Error   string `json:"error,omitempty"`
}

// control is the server's end of the socket.
type control struct {
	srv  *http.Server
	path string
	log  *slog.Logger
}

// listenControl serves create-admin for svc on a unix socket at path. The
// caller holds the store's lock, so a file already at path is a dead
// server's socket and is replaced.
func listenControl(path string, svc *core.Service, log *slog.Logger) (*control, error) {
	ln, err := listenOwnerOnly(path)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /create-admin", func(w http.ResponseWriter, r *http.Request) {
		var req adminRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			writeResult(w, http.StatusBadRequest, adminResult{Error: "malformed request: " + err.Error()})
			return
		}
		u, created, err := svc.CreateAdmin(r.Context(), req.Email, req.Password, req.Username)
		if err != nil {
			status := http.StatusUnprocessableEntity
			if _, ok := core.AsError(err); !ok {
				status = http.StatusInternalServerError
			}
			writeResult(w, status, adminResult{Error: describe(err).Error()})
			return
		}
		log.Info("create-admin over the control socket", "user", u.ID, "created", created)
		writeResult(w, http.StatusOK, adminResult{ID: u.ID, Email: string(u.Email), Created: created})
	})
	c := &control{
		path: path,
		log:  log,
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)},
	}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// listenOwnerOnly listens on a unix socket at path that only this user
// can connect to, at no moment otherwise: the socket is made in a private
// (0700) directory beside path, made 0600, then renamed into place (a
// client reaches a socket by its file, whatever its name). A file already
// at path is replaced.
func listenOwnerOnly(path string) (net.Listener, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".taskapi-sock-")
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	defer os.RemoveAll(tmp)
	tmpPath := filepath.Join(tmp, "s")
	ln, err := net.Listen("unix", tmpPath)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // it will not be there: Close removes path
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("make %s owner-only: %w", path, err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return ln, nil
}

// Close stops answering and removes the socket (nil: nothing to do).
func (c *control) Close() {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("control socket left behind", "path", c.path, "err", err)
	}
}

func writeResult(w http.ResponseWriter, status int, res adminResult) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}

// errNoServer: nothing answers on the socket (no file, or a dead server's).
var errNoServer = errors.New("no taskapi server answers on the socket")

// askServer asks the server listening on the socket at path to create or
// promote the admin.
func askServer(ctx context.Context, path string, req adminRequest) (adminResult, error) {
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "unix", path) },
	}}
	defer client.CloseIdleConnections()
	body, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(ctx, time.Minute) // hashing waits its turn behind the server's logins
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://taskapi/create-admin", bytes.NewReader(body))
	if err != nil {
		return adminResult{}, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(hreq)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return adminResult{}, errNoServer
		}
		return adminResult{}, fmt.Errorf("asking the server on %s: %w", path, err)
	}
	defer resp.Body.Close()
	var res adminResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return adminResult{}, fmt.Errorf("the server on %s answered %s: %w", path, resp.Status, err)
	}
	if res.Error != "" {
		return res, errors.New(res.Error)
	}
	return res, nil
}
