package ghapi

// Op is one kind of GitHub call. Pacing, retry classes and the wording of errors come from it,
// never from the text of a log label.
type Op int

// The calls the client makes.
const (
	OpGetDeployment Op = iota + 1
	OpListDeployments
	OpCreateDeployment
	OpDeleteDeployment
	OpCreateDeploymentStatus
	OpListDeploymentStatuses
	OpDeleteEnvironment
	OpGetCommit
	OpGetPullRequest
	OpGetPermission
	OpCreateComment
	OpUpdateComment
	OpCreateReaction
	OpListCheckRuns
	OpGetCombinedStatus
	OpGetRepository
	OpGetRef
	OpListRefs
	OpCreateRef
	OpDeleteRef
	OpGetContents
	OpPutContents
	OpListCheckSuites
	OpGetPolicyFile
)

// opNames are what errors and debug lines call each operation.
var opNames = [...]string{
	OpGetDeployment:          "get deployment",
	OpListDeployments:        "list deployments",
	OpCreateDeployment:       "create deployment",
	OpDeleteDeployment:       "delete deployment",
	OpCreateDeploymentStatus: "create deployment status",
	OpListDeploymentStatuses: "list deployment statuses",
	OpDeleteEnvironment:      "delete environment",
	OpGetCommit:              "get commit",
	OpGetPullRequest:         "get pull request",
	OpGetPermission:          "get collaborator permission",
	OpCreateComment:          "create comment",
	OpUpdateComment:          "update comment",
	OpCreateReaction:         "create reaction",
	OpListCheckRuns:          "list check runs",
	OpGetCombinedStatus:      "get combined status",
	OpGetRepository:          "get repository",
	OpGetRef:                 "get reference",
	OpListRefs:               "list matching references",
	OpCreateRef:              "create reference",
	OpDeleteRef:              "delete reference",
	OpGetContents:            "get file contents",
	OpPutContents:            "write file contents",
	OpListCheckSuites:        "list check suites",
	OpGetPolicyFile:          "get the policy file",
}

func (o Op) String() string {
	if o > 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "GitHub API call"
}

// Write reports a content-creating request (POST, PATCH, PUT, DELETE): GitHub's secondary limit
// counts these (80 per minute), so the client paces them when asked to.
func (o Op) Write() bool {
	switch o {
	case OpCreateDeployment, OpDeleteDeployment, OpCreateDeploymentStatus, OpDeleteEnvironment,
		OpCreateComment, OpUpdateComment, OpCreateReaction, OpCreateRef, OpDeleteRef, OpPutContents:
		return true
	}
	return false
}
