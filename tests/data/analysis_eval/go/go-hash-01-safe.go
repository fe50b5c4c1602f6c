package accounts

import (
	"database/sql"

	"golang.org/x/crypto/bcrypt"
)

func SetPassword(db *sql.DB, userID int64, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	_, err = db.Exec("UPDATE users SET password_hash = $1 WHERE id = $2", string(hash), userID)
	return err
}
