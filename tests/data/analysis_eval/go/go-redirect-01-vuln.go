package auth

import "net/http"

func FinishLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("continue")
	if next == "" {
		next = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: "seen_login", Value: "1", Path: "/", HttpOnly: true})
	http.Redirect(w, r, next, http.StatusFound)
}
