package main

import (
	"context"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/collector/component/componenttest"
)

func main() {
	_ = context.Background()
	_ = consumer.NewTraces
	_ = ptrace.JSONMarshaler{}
	_ = otlpreceiver.NewFactory
	_ = receivertest.NewNopSettings
	_ = componenttest.NewNopHost
}
