package ops

import (
	"net/http"
	"os/exec"
	"regexp"
)

var branchRe = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,100}$`)

func BuildHandler(w http.ResponseWriter, r *http.Request) {
	branch := r.FormValue("branch")
	if !branchRe.MatchString(branch) || branch[0] == '-' {
		http.Error(w, "bad branch", http.StatusBadRequest)
		return
	}
	for _, args := range [][]string{{"git", "checkout", branch, "--"}, {"make", "release"}} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = "/srv/app"
		if out, err := cmd.CombinedOutput(); err != nil {
			http.Error(w, string(out), http.StatusInternalServerError)
			return
		}
	}
	w.Write([]byte("ok"))
}
