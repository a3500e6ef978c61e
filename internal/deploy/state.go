package deploy

import (
	"encoding/json"
	"strconv"
)

// Reading what earlier stages saved (the keys are deploy's: a front end only carries them).

// SavedRepository is the repository the job's deployment was created in, as pre or main saved it
// with the deployment; "" when nothing was saved.
func SavedRepository(st StateStore) string {
	id, _ := savedIdentity(st)
	return id.Repository
}

// UnfinishedFrom wraps err, which kept post from finishing, with the deployment the state says
// this job left unfinished; err as it is when the state names none.
func UnfinishedFrom(st StateStore, err error) error {
	id, _ := strconv.ParseInt(st.State(KeyDeploymentID), 10, 64)
	if id == 0 {
		return err
	}
	return &Unfinished{ID: id, URL: st.State(KeyDeploymentURL), Environment: st.State(KeyEnvironment), State: st.State(KeyState), Err: err}
}

// savedIdentity is the identity pre or main saved with the deployment.
func savedIdentity(st StateStore) (identity, bool) {
	var id identity
	raw := st.State(KeyInputs)
	if raw == "" || json.Unmarshal([]byte(raw), &id) != nil {
		return identity{}, false
	}
	return id, true
}
