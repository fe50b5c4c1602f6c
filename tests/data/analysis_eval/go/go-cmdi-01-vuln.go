package ops

import (
	"net/http"
	"os/exec"
)

func BuildHandler(w http.ResponseWriter, r *http.Request) {
	branch := r.FormValue("branch")
	cmd := exec.Command("sh", "-c", "cd /srv/app && git checkout "+branch+" && make release")
	out, err := cmd.CombinedOutput()
	if err != nil {
		http.Error(w, string(out), http.StatusInternalServerError)
		return
	}
	w.Write(out)
}
