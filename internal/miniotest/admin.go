package miniotest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/s3mount/s3mount/internal/sigv4"
)

// MinIO's admin API (/minio/admin/v3/...) takes S3-signed requests, and
// bodies that carry secrets encrypted with the signing secret, as
// madmin.EncryptData does. That is done here with the standard library
// (PBKDF2-SHA256 and AES-256-GCM in sio's stream format), so that the
// tests need neither madmin-go nor mc.

// SetUser creates the MinIO user accessKey with secretKey, or gives an
// existing user a new secret (its old one stops working at once), and
// attaches the canned policy (such as "readwrite") when it is not empty.
// root are the keys of an administrator.
func SetUser(ctx context.Context, client *http.Client, endpoint string, root sigv4.Keys, accessKey, secretKey, policy string) error {
	req, err := json.Marshal(map[string]string{"secretKey": secretKey, "status": "enabled"})
	if err != nil {
		return err
	}
	body, err := encryptAdminBody(root.SecretKey, req)
	if err != nil {
		return err
	}
	target := "/minio/admin/v3/add-user?accessKey=" + url.QueryEscape(accessKey)
	if err := adminCall(ctx, client, endpoint, root, http.MethodPut, target, body); err != nil {
		return fmt.Errorf("minio admin add-user %s: %w", accessKey, err)
	}
	if policy == "" {
		return nil
	}
	target = "/minio/admin/v3/set-user-or-group-policy?" + url.Values{
		"policyName": {policy}, "userOrGroup": {accessKey}, "isGroup": {"false"},
	}.Encode()
	if err := adminCall(ctx, client, endpoint, root, http.MethodPut, target, nil); err != nil {
		return fmt.Errorf("minio admin set policy %s of %s: %w", policy, accessKey, err)
	}
	return nil
}

// SetPolicy creates (or replaces) the canned policy name with the IAM
// policy document doc (JSON), for SetUser to attach.
func SetPolicy(ctx context.Context, client *http.Client, endpoint string, root sigv4.Keys, name, doc string) error {
	target := "/minio/admin/v3/add-canned-policy?name=" + url.QueryEscape(name)
	if err := adminCall(ctx, client, endpoint, root, http.MethodPut, target, []byte(doc)); err != nil {
		return fmt.Errorf("minio admin add-canned-policy %s: %w", name, err)
	}
	return nil
}

// SetUser is the package's SetUser on this server, with its root keys.
func (s *Server) SetUser(ctx context.Context, accessKey, secretKey, policy string) error {
	return SetUser(ctx, s.client, s.Endpoint, s.keys(), accessKey, secretKey, policy)
}

func adminCall(ctx context.Context, client *http.Client, endpoint string, root sigv4.Keys, method, target string, body []byte) error {
	resp, err := root.Do(ctx, client, method, endpoint, target, nil, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return nil
}

// madmin's format: salt (32) | AEAD id (1) | nonce (8) | sio stream.
const (
	adminSaltSize   = 32
	adminPBKDF2AES  = 0x02 // madmin's pbkdf2AESGCM
	adminPBKDF2Cost = 8192
	sioBufSize      = 1 << 14
)

// encryptAdminBody is madmin.EncryptData with PBKDF2 (the FIPS choice,
// which every MinIO decrypts) for bodies of one sio fragment.
func encryptAdminBody(password string, data []byte) ([]byte, error) {
	if len(data) > sioBufSize {
		return nil, fmt.Errorf("admin body of %d bytes: only one fragment (%d) is supported", len(data), sioBufSize)
	}
	salt := make([]byte, adminSaltSize)
	nonce := make([]byte, 8)
	rand.Read(salt)
	rand.Read(nonce)
	key, err := pbkdf2.Key(sha256.New, password, salt, adminPBKDF2Cost, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// sio: fragment i is sealed with nonce || uint32le(i); the associated
	// data is a flag byte (0x80 on the final fragment) and the tag of an
	// empty seal under fragment number 0.
	full := make([]byte, aead.NonceSize())
	copy(full, nonce)
	ad := append([]byte{0x00}, aead.Seal(nil, full, nil, nil)...)
	ad[0] = 0x80
	binary.LittleEndian.PutUint32(full[len(nonce):], 1)
	out := append(append(append([]byte{}, salt...), adminPBKDF2AES), nonce...)
	return aead.Seal(out, full, data, ad), nil
}
