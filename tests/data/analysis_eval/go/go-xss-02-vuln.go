package web

import (
	"net/http"
	"text/template"
)

var profileTmpl = template.Must(template.New("p").Parse(
	`<div class="profile"><h2>{{.Name}}</h2><p>{{.Bio}}</p></div>`))

type Profile struct{ Name, Bio string }

func ShowProfile(w http.ResponseWriter, r *http.Request) {
	p := Profile{Name: r.FormValue("name"), Bio: r.FormValue("bio")}
	w.Header().Set("Content-Type", "text/html")
	profileTmpl.Execute(w, p)
}
