package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/taskapi/taskapi/core"
)

// The legacy endpoints: each decodes, calls core.Service, encodes. Every
// success is 200, as FastAPI answers a route that declares no other status
// (the legacy app's clients expect it, register included).
func routes(svc *core.Service) []route {
	const (
		auth  = "auth"
		tasks = "tasks"
		adm   = "admin"
	)
	notFound := []int{http.StatusNotFound}
	return []route{
		op(route{method: http.MethodPost, path: "/api/v1/auth/register", id: "register", tag: auth, access: optionalBearer,
			summary: "Register a new user", errs: []int{http.StatusForbidden, http.StatusConflict}},
			func(ctx context.Context, _ *http.Request, in *registerRequest) (userResponse, error) {
				u, err := svc.Register(ctx, in.input())
				return newUser(u), err
			}),
		op(route{method: http.MethodPost, path: "/api/v1/auth/login", id: "login", tag: auth, access: public, form: true,
			summary: "Log in and get a bearer token", errs: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests}},
			func(ctx context.Context, _ *http.Request, in *loginRequest) (tokenResponse, error) {
				p, err := svc.Login(ctx, in.Email, in.Password)
				return newTokens(p), err
			}),
		op(route{method: http.MethodPost, path: "/api/v1/auth/refresh", id: "refresh", tag: auth, access: public,
			summary: "Exchange a refresh token for new tokens (the one sent stops working)", errs: []int{http.StatusUnauthorized}},
			func(ctx context.Context, _ *http.Request, in *refreshRequest) (tokenResponse, error) {
				p, err := svc.Refresh(ctx, in.RefreshToken)
				return newTokens(p), err
			}),
		op(route{method: http.MethodPost, path: "/api/v1/auth/logout", id: "logout", tag: auth, access: bearer,
			summary: "End the caller's session"},
			func(ctx context.Context, _ *http.Request, _ *noBody) (messageResponse, error) {
				return messageResponse{Message: "Logged out"}, svc.Logout(ctx)
			}),
		op(route{method: http.MethodPost, path: "/api/v1/auth/logout-all", id: "logoutAll", tag: auth, access: bearer,
			summary: "End every session of the caller"},
			func(ctx context.Context, _ *http.Request, _ *noBody) (messageResponse, error) {
				return messageResponse{Message: "Logged out everywhere"}, svc.LogoutEverywhere(ctx)
			}),
		op(route{method: http.MethodPost, path: "/api/v1/auth/change-password", id: "changePassword", tag: auth, access: bearer,
			summary: "Change the caller's password; ends every session and starts a new one", errs: []int{http.StatusUnauthorized, http.StatusTooManyRequests}},
			func(ctx context.Context, _ *http.Request, in *changePasswordRequest) (tokenResponse, error) {
				p, err := svc.ChangePassword(ctx, in.CurrentPassword, in.NewPassword)
				return newTokens(p), err
			}),
		op(route{method: http.MethodGet, path: "/api/v1/auth/user", id: "currentUser", tag: auth, access: bearer, cached: true,
			summary: "The caller and their task statistics"},
			func(ctx context.Context, _ *http.Request, _ *noBody) (meResponse, error) {
				u, err := svc.Me(ctx)
				if err != nil {
					return meResponse{}, err
				}
				s, err := svc.Stats(ctx, u.ID)
				if err != nil {
					return meResponse{}, err
				}
				return meResponse{
					TaskData: statsResponse{Pending: s.Pending(), Ongoing: s.Ongoing(), Complete: s.Complete(), Total: s.Total()},
					UserData: newUser(u),
				}, nil
			}),
		op(route{method: http.MethodPost, path: "/api/v1/tasks/create-task", id: "createTask", tag: tasks, access: bearer,
			summary: "Create a task (pending)"},
			func(ctx context.Context, _ *http.Request, in *createTaskRequest) (taskResponse, error) {
				t, err := svc.CreateTask(ctx, in.input())
				return newTask(t), err
			}),
		op(route{method: http.MethodGet, path: "/api/v1/tasks/fetch-task", id: "fetchTasks", tag: tasks, access: bearer, cached: true,
			summary: "Every task of the caller, oldest first"},
			func(ctx context.Context, _ *http.Request, _ *noBody) ([]taskResponse, error) {
				ts, err := svc.AllTasks(ctx)
				return newTasks(ts), err
			}),
		updateTask(svc, http.MethodPut, "updateTask"),
		updateTask(svc, http.MethodPatch, "patchTask"),
		op(route{method: http.MethodDelete, path: "/api/v1/tasks/delete-task/{task_id}", id: "deleteTask", tag: tasks, access: bearer,
			summary: "Delete one of the caller's tasks", errs: notFound},
			func(ctx context.Context, r *http.Request, _ *noBody) (messageResponse, error) {
				if err := svc.DeleteTask(ctx, r.PathValue("task_id")); err != nil {
					return messageResponse{}, err
				}
				return messageResponse{Message: "Task deleted successfully"}, nil
			}),
		op(route{method: http.MethodGet, path: "/api/v1/admin/users", id: "listUsers", tag: adm, access: admin,
			summary: "Every user (admins only)"},
			func(ctx context.Context, _ *http.Request, _ *noBody) ([]userResponse, error) {
				us, err := svc.AllUsers(ctx)
				return newUsers(us), err
			}),
		updateUser(svc, http.MethodPut, "updateUser"),
		updateUser(svc, http.MethodPatch, "patchUser"),
		op(route{method: http.MethodDelete, path: "/api/v1/auth/user", id: "deleteAccount", tag: auth, access: bearer,
			summary: "Delete the caller's account with every task and session (confirmed by the password)",
			errs:    []int{http.StatusUnauthorized, http.StatusConflict, http.StatusTooManyRequests}},
			func(ctx context.Context, _ *http.Request, in *deleteAccountRequest) (messageResponse, error) {
				if err := svc.DeleteAccount(ctx, in.Password); err != nil {
					return messageResponse{}, err
				}
				return messageResponse{Message: "Account deleted"}, nil
			}),
		op(route{method: http.MethodGet, path: "/api/v1/auth/export", id: "exportMyData", tag: auth, access: bearer,
			summary: "The caller's profile, task counts, sessions and every task, as one JSON document (streamed)",
			errs:    []int{http.StatusTooManyRequests}},
			func(ctx context.Context, _ *http.Request, _ *noBody) (exportResponse, error) {
				return exportResponse{write: func(w io.Writer) error { return svc.ExportMyData(ctx, w) }}, nil
			}),
		op(route{method: http.MethodDelete, path: "/api/v1/admin/delete-user/{user_id}", id: "deleteUser", tag: adm, access: admin,
			summary: "Delete a user's account with every task and session (admins only; not their own)",
			errs:    []int{http.StatusNotFound, http.StatusConflict}},
			func(ctx context.Context, r *http.Request, _ *noBody) (messageResponse, error) {
				if err := svc.DeleteUser(ctx, r.PathValue("user_id")); err != nil {
					return messageResponse{}, err
				}
				return messageResponse{Message: "User deleted successfully"}, nil
			}),
	}
}

func updateTask(svc *core.Service, method, id string) route {
	return op(route{method: method, path: "/api/v1/tasks/update-task/{task_id}", id: id, tag: "tasks", access: bearer,
		summary: "Change the status of one of the caller's tasks", errs: []int{http.StatusNotFound}},
		func(ctx context.Context, r *http.Request, in *updateTaskRequest) (taskUpdatedResponse, error) {
			t, err := svc.UpdateTask(ctx, r.PathValue("task_id"), core.UpdateTaskInput{Status: &in.status})
			if err != nil {
				return taskUpdatedResponse{}, err
			}
			return taskUpdatedResponse{Message: "Task updated successfully", Task: newTask(t)}, nil
		})
}

func updateUser(svc *core.Service, method, id string) route {
	return op(route{method: method, path: "/api/v1/admin/update-user/{user_id}", id: id, tag: "admin", access: admin,
		summary: "Change a user (admins only)", errs: []int{http.StatusNotFound, http.StatusConflict}},
		func(ctx context.Context, r *http.Request, in *updateUserRequest) (userResponse, error) {
			u, err := svc.UpdateUser(ctx, r.PathValue("user_id"), in.input())
			return newUser(u), err
		})
}

// ---- writing ----

// writeJSON writes v compactly and without HTML escaping, as Starlette's
// JSONResponse does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"detail":"Internal Server Error"}`) // only an unencodable type (a bug) gets here
	}
	writeRaw(w, status, contentJSON, body)
}

// encodeJSON encodes v as writeJSON writes it.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	// Straight into the map (canonical keys; the constant values shared and
	// never written to): this runs for every answer, cached ones included.
	h := w.Header()
	if contentType == contentJSON {
		h["Content-Type"] = contentJSONValue
	} else {
		h["Content-Type"] = []string{contentType}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h["X-Content-Type-Options"] = nosniff
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

const contentJSON = "application/json"

var (
	contentJSONValue = []string{contentJSON}
	nosniff          = []string{"nosniff"}
)
