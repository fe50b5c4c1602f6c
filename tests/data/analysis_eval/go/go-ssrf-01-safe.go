package proxy

import (
	"errors"
	"io"
	"net/http"
	"net/url"
)

var allowed = map[string]bool{"api.github.com": true, "registry.npmjs.org": true}

var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return errors.New("redirects not allowed")
}}

func Fetch(w http.ResponseWriter, r *http.Request) {
	u, err := url.Parse(r.URL.Query().Get("target"))
	if err != nil || u.Scheme != "https" || !allowed[u.Hostname()] || u.Port() != "" {
		http.Error(w, "target not allowed", http.StatusBadRequest)
		return
	}
	resp, err := client.Get(u.String())
	if err != nil {
		http.Error(w, "upstream error", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}
