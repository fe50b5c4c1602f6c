package handlers

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
)

func ListDevices(db *sql.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		site := r.URL.Query().Get("site")
		rows, err := db.Query(fmt.Sprintf("SELECT serial, model FROM devices WHERE site = '%s'", site))
		if err != nil {
			http.Error(w, "query failed", http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		var out []map[string]string
		for rows.Next() {
			var serial, model string
			if err := rows.Scan(&serial, &model); err == nil {
				out = append(out, map[string]string{"serial": serial, "model": model})
			}
		}
		json.NewEncoder(w).Encode(out)
	}
}
