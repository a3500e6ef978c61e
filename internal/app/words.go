package app

import (
	"strings"

	"github.com/deployment-action/deployment-action/internal/explain"
)

// actionWords is how the action speaks of its inputs: as the YAML of a workflow step.
type actionWords struct{}

func (actionWords) Subject(input string) string       { return input }
func (actionWords) Input(input string) string         { return "`" + input + "`" }
func (actionWords) Assign(input, value string) string { return "`" + input + ": " + value + "`" }
func (actionWords) Mode(name string) string           { return "`mode: " + name + "`" }

// Literal is a code span: the job log shows it as written, and a comment or summary renders
// no mention, link or HTML inside it.
func (actionWords) Literal(s string) string { return inert(s) }

func (actionWords) Missing(input string) string {
	switch input {
	case "token":
		return "pass `token: ${{ github.token }}` (the default) or a token with deployments write access"
	case "repository":
		return "set `repository: owner/name` (it defaults to the current repository)"
	case "deployment-id":
		return "pass `deployment-id: ${{ steps.<start step id>.outputs.deployment-id }}` (it defaults to the event's deployment only in workflows run `on: deployment`)"
	}
	return ""
}

func (actionWords) LeaveEmpty(_, does string) string { return "leave it empty " + does }

func (actionWords) Permission(a explain.Access) string {
	var block, fine []string
	for _, x := range a.Each() {
		block = append(block, "`permissions: "+x.String()+"`")
		fine = append(fine, x.FineGrained())
	}
	return "the workflow needs " + strings.Join(block, " or ") + " (or a token with " + strings.Join(fine, " or ") + ", or the " + a.Classic() + " scope of a classic token)"
}

func (actionWords) TokenSource() string {
	return "the `token` input; the default ${{ github.token }} works for the current repository"
}
