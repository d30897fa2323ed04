package rpc

import (
	"context"
	"net"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRoundTrip(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var intercepted string
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		intercepted = info.FullMethod
		return h(ctx, req)
	}))
	Register(srv, "test.v1.Pricing", map[string]Handler{
		"Quote": func(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
			n := req.Fields["quantity"].GetNumberValue()
			if n < 0 {
				return nil, status.Error(codes.InvalidArgument, "negative quantity")
			}
			return structpb.NewStruct(map[string]any{"total": n * 2.5})
		},
	})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	defer func() {
		srv.Stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out, err := Call(context.Background(), conn, "test.v1.Pricing", "Quote", map[string]any{"quantity": 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Fields["total"].GetNumberValue(); got != 10 {
		t.Errorf("total = %v", got)
	}
	if intercepted != "/test.v1.Pricing/Quote" {
		t.Errorf("interceptor saw %q", intercepted)
	}
	_, err = Call(context.Background(), conn, "test.v1.Pricing", "Quote", map[string]any{"quantity": -1})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("error = %v", err)
	}
	_, err = Call(context.Background(), conn, "test.v1.Pricing", "Nope", nil)
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("unknown method: %v", err)
	}
}
