package auth

import (
	"net/http"
	"net/url"
	"strings"
)

func FinishLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("continue")
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		next = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: "seen_login", Value: "1", Path: "/", HttpOnly: true})
	http.Redirect(w, r, next, http.StatusFound)
}
