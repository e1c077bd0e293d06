package api

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
)

// maxFormKeyPeek bounds how much of a multipart body is read ahead looking
// for an apikey field.
const maxFormKeyPeek = 64 << 10

// peekFormKey reads the form fields that precede the first file part of a
// multipart body (at most maxFormKeyPeek bytes), and when one is `apikey`,
// sets it as the request's X-Api-Key. The bytes read are put back in front
// of the body, so the handler sees it whole.
func peekFormKey(r *http.Request) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" || r.Body == nil {
		return
	}
	var seen bytes.Buffer
	orig := r.Body
	mr := multipart.NewReader(io.TeeReader(io.LimitReader(orig, maxFormKeyPeek), &seen), params["boundary"])
	key := ""
	for {
		part, err := mr.NextPart()
		if err != nil || part.FileName() != "" {
			break
		}
		if part.FormName() == "apikey" {
			raw, _ := io.ReadAll(io.LimitReader(part, 1024))
			key = string(bytes.TrimSpace(raw))
			break
		}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(seen.Bytes()), orig), orig}
	if key != "" {
		r.Header.Set("X-Api-Key", key)
	}
}
