package invites

import (
	"math/rand"
	"time"
)

const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func NewInviteCode() string {
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	b := make([]byte, 12)
	for i := range b {
		b[i] = letters[r.Intn(len(letters))]
	}
	return string(b)
}
