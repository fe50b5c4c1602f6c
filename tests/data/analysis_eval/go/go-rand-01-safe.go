package invites

import (
	"crypto/rand"
	"math/big"
)

const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func NewInviteCode() (string, error) {
	b := make([]byte, 12)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(letters))))
		if err != nil {
			return "", err
		}
		b[i] = letters[n.Int64()]
	}
	return string(b), nil
}
