package demo

import "testing"

func TestVerifySignature(t *testing.T) {
	// GitHub's documented test vector (docs: validating webhook deliveries).
	const secret, body = "It's a Secret to Everybody", "Hello, World!"
	const sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if !verify(secret, []byte(body), sig) {
		t.Fatal("the documented signature does not verify")
	}
	for name, c := range map[string]struct{ secret, body, sig string }{
		"tampered body": {secret, body + " ", sig},
		"wrong secret":  {"guess", body, sig},
		"no header":     {secret, body, ""},
		"sha1 only":     {secret, body, "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"},
		"bare hex":      {secret, body, sig[len("sha256="):]},
	} {
		if verify(c.secret, []byte(c.body), c.sig) {
			t.Errorf("%s: accepted", name)
		}
	}
}
