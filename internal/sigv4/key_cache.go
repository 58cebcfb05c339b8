package sigv4

import (
	"crypto/sha256"
	"sync"
)

// maxCachedKeys bounds the signing-key cache. A key is valid for one
// (secret, day, region, service), so a deployment needs a few per access key;
// when the cache fills it is simply emptied.
const maxCachedKeys = 1024

// keyCacheKey identifies a derived signing key. The secret is kept as its
// SHA-256 so the cache does not hold another copy of every secret.
type keyCacheKey struct {
	secret                [sha256.Size]byte
	date, region, service string
}

// keyCache memoises signing-key derivation, four HMACs per request otherwise.
type keyCache struct {
	mu   sync.Mutex // guards following fields
	keys map[keyCacheKey][sha256.Size]byte
}

// signingKey returns HMAC chain "AWS4"+secret → date → region → service →
// "aws4_request" (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
func (c *keyCache) signingKey(secret, date, region, service string) [sha256.Size]byte {
	k := keyCacheKey{secret: sha256.Sum256([]byte(secret)), date: date, region: region, service: service}
	c.mu.Lock()
	key, ok := c.keys[k]
	c.mu.Unlock()
	if ok {
		return key
	}
	key = deriveKey(secret, date, region, service)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) >= maxCachedKeys {
		c.keys = make(map[keyCacheKey][sha256.Size]byte)
	}
	c.keys[k] = key
	return key
}

func deriveKey(secret, date, region, service string) [sha256.Size]byte {
	k := hmacSum([]byte("AWS4"+secret), date)
	k = hmacSum(k[:], region)
	k = hmacSum(k[:], service)
	return hmacSum(k[:], scopeTerminator)
}

func hmacSum(key []byte, data string) [sha256.Size]byte {
	return hmacSHA256(key, []byte(data))
}
