package core

// The inputs the transports hand in are raw (strings as sent); these
// functions parse them into the domain's values, gathering every field
// error of one input, so a client learns all of them at once.

import "time"

// fieldErrors gathers the field errors of one input.
type fieldErrors []FieldError

func (v *fieldErrors) add(fe *FieldError) {
	if fe != nil {
		*v = append(*v, *fe)
	}
}

func (v fieldErrors) err() error {
	if len(v) == 0 {
		return nil
	}
	return Invalid(v...)
}

// enumError reports a value outside a closed set (the transports decode
// enums themselves; this is the safety net under them).
func enumError[T ~string](field string, value T, allowed []T) *FieldError {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return &FieldError{Field: field, Kind: KindEnum, Allowed: names, Input: string(value)}
}

// Registration is a parsed RegisterInput.
type Registration struct {
	Username         Username
	Email            Email
	Password         Password
	Role             Role
	ActivationStatus ActivationStatus
}

// ParseRegister reads a registration; role and status default to user and
// active.
func ParseRegister(in RegisterInput) (Registration, error) {
	var v fieldErrors
	var r Registration
	var fe *FieldError
	r.Username, fe = ParseUsername("username", in.Username)
	v.add(fe)
	r.Email, fe = ParseEmail("email", in.Email)
	v.add(fe)
	r.Password, fe = ParsePassword("password", in.Password)
	v.add(fe)
	r.Role, r.ActivationStatus = RoleUser, ActivationActive
	if in.Role != nil {
		if r.Role = *in.Role; !r.Role.Valid() {
			v.add(enumError("role", r.Role, Roles[:]))
		}
	}
	if in.ActivationStatus != nil {
		if r.ActivationStatus = *in.ActivationStatus; !r.ActivationStatus.Valid() {
			v.add(enumError("activationStatus", r.ActivationStatus, ActivationStatuses[:]))
		}
	}
	return r, v.err()
}

// NewTask is a parsed CreateTaskInput.
type NewTask struct {
	Title       Title
	Description Description
	DueDate     *time.Time
}

// ParseCreateTask reads a new task.
func ParseCreateTask(in CreateTaskInput) (NewTask, error) {
	var v fieldErrors
	var t NewTask
	var fe *FieldError
	t.Title, fe = ParseTitle("title", in.Title)
	v.add(fe)
	t.Description, fe = ParseDescription("description", in.Description)
	v.add(fe)
	if in.DueDate != nil {
		d, fe := ParseDueDate("dueDate", *in.DueDate)
		v.add(fe)
		t.DueDate = &d
	}
	return t, v.err()
}

// ParseUpdateTask reads a change to a task into a patch (UpdatedAt unset).
func ParseUpdateTask(in UpdateTaskInput) (TaskPatch, error) {
	var v fieldErrors
	var p TaskPatch
	if in.Title != nil {
		t, fe := ParseTitle("title", *in.Title)
		v.add(fe)
		p.Title = &t
	}
	if in.Description != nil {
		d, fe := ParseDescription("description", *in.Description)
		v.add(fe)
		p.Description = &d
	}
	if in.Status != nil {
		if !in.Status.Valid() {
			v.add(enumError("status", *in.Status, TaskStatuses[:]))
		}
		p.Status = in.Status
	}
	if in.DueDate != nil {
		var d time.Time // zero: clear it
		if !in.DueDate.IsZero() {
			var fe *FieldError
			d, fe = ParseDueDate("dueDate", *in.DueDate)
			v.add(fe)
		}
		p.DueDate = &d
	}
	if in.Title == nil && in.Description == nil && in.Status == nil && in.DueDate == nil {
		v.add(&FieldError{Field: "input", Kind: KindRequired, Reason: "give at least one of title, description, status or dueDate"})
	}
	return p, v.err()
}

// UserChange is a parsed UpdateUserInput: the password stays plaintext
// until the service decides to hash it.
type UserChange struct {
	Username         *Username
	Email            *Email
	Password         *Password
	ActivationStatus *ActivationStatus
	Role             *Role
}

// ParseUpdateUser reads an admin's change to a user.
func ParseUpdateUser(in UpdateUserInput) (UserChange, error) {
	var v fieldErrors
	var c UserChange
	if in.Username != nil {
		u, fe := ParseUsername("username", *in.Username)
		v.add(fe)
		c.Username = &u
	}
	if in.Email != nil {
		e, fe := ParseEmail("email", *in.Email)
		v.add(fe)
		c.Email = &e
	}
	if in.Password != nil {
		p, fe := ParsePassword("password", *in.Password)
		v.add(fe)
		c.Password = &p
	}
	if in.Role != nil {
		if !in.Role.Valid() {
			v.add(enumError("role", *in.Role, Roles[:]))
		}
		c.Role = in.Role
	}
	if in.ActivationStatus != nil {
		if !in.ActivationStatus.Valid() {
			v.add(enumError("activationStatus", *in.ActivationStatus, ActivationStatuses[:]))
		}
		c.ActivationStatus = in.ActivationStatus
	}
	return c, v.err()
}
