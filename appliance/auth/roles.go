package auth

import "fmt"

// Role is what a user may do.
type Role string

// Roles.
const (
	RoleAdmin    Role = "admin"    // everything, including users and export/import
	RoleOperator Role = "operator" // read, apply configuration, rollback, confirm
	RoleViewer   Role = "viewer"   // read only
)

// Permission is what a request needs.
type Permission int

// Permissions, each including the ones before it.
const (
	PermNone    Permission = iota // no authentication needed
	PermRead                      // viewer, operator, admin
	PermOperate                   // operator, admin
	PermAdmin                     // admin
)

func (p Permission) String() string {
	switch p {
	case PermNone:
		return "none"
	case PermRead:
		return "viewer"
	case PermOperate:
		return "operator"
	case PermAdmin:
		return "admin"
	}
	return fmt.Sprintf("permission(%d)", int(p))
}

func (r Role) level() Permission {
	switch r {
	case RoleAdmin:
		return PermAdmin
	case RoleOperator:
		return PermOperate
	case RoleViewer:
		return PermRead
	}
	return PermNone
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.level() != PermNone }

// Allows reports whether r may do what p asks.
func (r Role) Allows(p Permission) bool { return p == PermNone || r.level() >= p }
