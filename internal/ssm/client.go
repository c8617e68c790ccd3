package ssm

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client makes SSM's GetParameters call (always WithDecryption) as one
// SigV4-signed HTTPS request: the AWS JSON 1.1 protocol, nothing else of the
// SDK's SSM client. Linking github.com/aws/aws-sdk-go-v2/service/ssm for this
// one call at a Lambda cold start would cost its package initialization
// (about 7–10 ms) at every process start.
//
// Like the SDK it makes up to three attempts when the call fails on the way
// (a network error, HTTP 5xx, throttling), within the caller's context.
type Client struct {
	// Region is the AWS region, e.g. "eu-west-1"; it picks the endpoint and
	// is part of the signature.
	Region string
	// Credentials signs the request (a session token is sent as
	// X-Amz-Security-Token).
	Credentials aws.CredentialsProvider
	// Endpoint, when set, replaces https://ssm.<region>.amazonaws.com
	// (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL).
	Endpoint string
	// HTTPClient sends the request; nil means an *http.Client with a
	// 10-second timeout.
	HTTPClient aws.HTTPClient
}

var _ GetParametersAPI = (*Client)(nil)

// Error is SSM's refusal of a call: its error type without the namespace
// (e.g. "AccessDeniedException"), the HTTP status and SSM's message.
type Error struct {
	Type       string
	StatusCode int
	Message    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("SSM GetParameters: ")
	if e.Type != "" {
		b.WriteString(e.Type)
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, "(HTTP %d)", e.StatusCode)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

const (
	// ssmMaxResponse bounds the answer read: ten parameters of at most
	// 8 KiB each (advanced tier) and their metadata fit many times over.
	ssmMaxResponse = 1 << 20
	// ssmMaxMessage bounds SSM's error message in our error.
	ssmMaxMessage = 512
	ssmAttempts   = 3
	ssmBackoff    = 100 * time.Millisecond
	ssmTimeout    = 10 * time.Second
	// ssmService is the signing name and the endpoint's first label.
	ssmService = "ssm"
)

// GetParameters reads names (at most ten) with WithDecryption set. Unknown
// names are simply absent from the result, as in SSM's answer.
func (c *Client) GetParameters(ctx context.Context, names []string) ([]Parameter, error) {
	endpoint, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	if c.Credentials == nil {
		return nil, errors.New("SSM GetParameters: no AWS credentials provider")
	}
	creds, err := c.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("SSM GetParameters: AWS credentials: %w", err)
	}
	body, err := json.Marshal(getParametersInput{Names: names, WithDecryption: true})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: ssmTimeout}
	}

	for attempt := 1; ; attempt++ {
		out, retry, err := c.call(ctx, client, endpoint, creds, body, payloadHash)
		if err == nil {
			return out, nil
		}
		if !retry || attempt == ssmAttempts || ctx.Err() != nil {
			return nil, err
		}
		// Full jitter: a burst of cold starts does not retry in step.
		t := time.NewTimer(rand.N(ssmBackoff << (attempt - 1)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (retrying after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

type getParametersInput struct {
	Names          []string `json:"Names"`
	WithDecryption bool     `json:"WithDecryption"`
}

type getParametersOutput struct {
	Parameters []Parameter `json:"Parameters"`
	// InvalidParameters (the names SSM does not know) is not needed: a
	// name's absence from Parameters says the same.
}

// call makes one attempt; retry says whether another may succeed.
func (c *Client) call(ctx context.Context, client aws.HTTPClient, endpoint string, creds aws.Credentials, body []byte, payloadHash string) (_ []Parameter, retry bool, _ error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("SSM GetParameters: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameters")
	// Signed at each attempt: the signature covers the time.
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, payloadHash, ssmService, c.Region, time.Now()); err != nil {
		return nil, false, fmt.Errorf("SSM GetParameters: signing: %w", err)
	}

	resp, err := client.Do(req)
	if err != nil {
		// *url.Error names the method and URL, neither of them secret.
		return nil, ctx.Err() == nil, fmt.Errorf("SSM GetParameters: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, ssmMaxResponse+1))
	if err != nil {
		return nil, ctx.Err() == nil, fmt.Errorf("SSM GetParameters: reading the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(data) > ssmMaxResponse {
		return nil, false, fmt.Errorf("SSM GetParameters: the answer (HTTP %d) is larger than %d bytes", resp.StatusCode, ssmMaxResponse)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := parseError(resp, data)
		return nil, retryable(e), e
	}
	var out getParametersOutput
	if err := json.Unmarshal(data, &out); err != nil {
		// encoding/json's errors name a type or one character, never the
		// text around it.
		return nil, false, fmt.Errorf("SSM GetParameters: decoding the answer: %w", err)
	}
	return out.Parameters, false, nil
}

// parseError reads an AWS JSON error: the type from the X-Amzn-ErrorType
// header or the body's "__type" (or "code"), e.g.
// "com.amazonaws.ssm#AccessDeniedException" or
// "AccessDeniedException:http://internal.amazon.com/...".
func parseError(resp *http.Response, data []byte) *Error {
	var body struct {
		Type       string `json:"__type"`
		Code       string `json:"code"`
		Message    string `json:"message"`
		MessageCap string `json:"Message"`
	}
	_ = json.Unmarshal(data, &body) // a non-JSON body leaves only the status
	typ := cmp.Or(resp.Header.Get("X-Amzn-ErrorType"), body.Type, body.Code)
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		typ = typ[i+1:]
	}
	typ, _, _ = strings.Cut(typ, ":")
	msg := strings.Join(strings.Fields(strings.ToValidUTF8(cmp.Or(body.Message, body.MessageCap), "?")), " ")
	if len(msg) > ssmMaxMessage {
		msg = strings.ToValidUTF8(msg[:ssmMaxMessage], "") + "…"
	}
	return &Error{Type: strings.TrimSpace(typ), StatusCode: resp.StatusCode, Message: msg}
}

func retryable(e *Error) bool {
	switch e.Type {
	case "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// endpoint is the URL the request goes to.
func (c *Client) endpoint() (string, error) {
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("SSM endpoint %q is not an http(s) URL", c.Endpoint)
		}
		if u.Path == "" {
			u.Path = "/"
		}
		if c.Region == "" {
			return "", errors.New("SSM GetParameters: no AWS region (it is part of the signature)")
		}
		return u.String(), nil
	}
	if !validRegion(c.Region) {
		if c.Region == "" {
			return "", errors.New("SSM GetParameters: no AWS region")
		}
		return "", fmt.Errorf("SSM GetParameters: %q is not an AWS region", c.Region)
	}
	domain := "amazonaws.com"
	if strings.HasPrefix(c.Region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://" + ssmService + "." + c.Region + "." + domain + "/", nil
}

// validRegion: a region becomes a host label, so only [a-z0-9-].
func validRegion(r string) bool {
	if r == "" || len(r) > 63 || r[0] == '-' || r[len(r)-1] == '-' {
		return false
	}
	for _, c := range r {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
