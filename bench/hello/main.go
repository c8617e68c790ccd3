// Command hello is the yardstick for taskapi's cold start: the smallest Go
// program that answers HTTP 200 on $PORT, or, when AWS_LAMBDA_RUNTIME_API
// is set (inside Lambda or its emulator), an API Gateway HTTP API event.
// The benchmark suite builds it exactly as taskapi is built.
package main

import (
	"context"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: `{"status":"ok"}`}, nil
		})
		return
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	err := http.ListenAndServe("127.0.0.1:"+port, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	if err != nil {
		os.Exit(1)
	}
}
