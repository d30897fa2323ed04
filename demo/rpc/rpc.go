// Package rpc lets the demo shop's gRPC services be declared without
// generated code: every method is unary and takes and returns a
// google.protobuf.Struct, so the wire format is real protobuf over real
// gRPC (and otelgrpc traces it like any other service), while the shop
// stays plain Go.
package rpc

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
)

// Handler answers one unary method.
type Handler func(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error)

// Register adds service (a full name such as "shop.pricing.v1.Pricing")
// with its methods to s. Call it before s serves.
func Register(s grpc.ServiceRegistrar, service string, methods map[string]Handler) {
	desc := grpc.ServiceDesc{
		ServiceName: service,
		// NB: any type implements *any's element type, so RegisterService's
		// check that the implementation fits passes for the nil below.
		HandlerType: (*any)(nil),
	}
	for name, h := range methods {
		desc.Methods = append(desc.Methods, grpc.MethodDesc{
			MethodName: name,
			Handler:    unary(service, name, h),
		})
	}
	s.RegisterService(&desc, nil)
}

// unary adapts a Handler to grpc's method handler, running the server's
// interceptor if it has one.
func unary(service, method string, h Handler) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	full := fmt.Sprintf("/%s/%s", service, method)
	return func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		req := new(structpb.Struct)
		if err := dec(req); err != nil {
			return nil, err
		}
		if icpt == nil {
			return h(ctx, req)
		}
		info := &grpc.UnaryServerInfo{FullMethod: full}
		return icpt(ctx, req, info, func(ctx context.Context, r any) (any, error) {
			return h(ctx, r.(*structpb.Struct))
		})
	}
}

// Call invokes service/method on conn with req as a Struct built from a
// map (see structpb.NewStruct for the value types it accepts).
func Call(ctx context.Context, conn grpc.ClientConnInterface, service, method string, req map[string]any) (*structpb.Struct, error) {
	in, err := structpb.NewStruct(req)
	if err != nil {
		return nil, fmt.Errorf("%s/%s request: %w", service, method, err)
	}
	out := new(structpb.Struct)
	if err := conn.Invoke(ctx, fmt.Sprintf("/%s/%s", service, method), in, out); err != nil {
		return nil, err
	}
	return out, nil
}
