package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
)

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		_, _ = config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	}
}
