package accounts

import (
	"crypto/md5"
	"database/sql"
	"encoding/hex"
)

func SetPassword(db *sql.DB, userID int64, password string) error {
	sum := md5.Sum([]byte(password))
	_, err := db.Exec("UPDATE users SET password_hash = $1 WHERE id = $2", hex.EncodeToString(sum[:]), userID)
	return err
}
