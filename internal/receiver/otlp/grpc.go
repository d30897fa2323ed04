package otlp

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // OTel SDKs compress with gzip.
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// NewGRPCServer returns a gRPC server suited to OTLP: gzip accepted,
// messages up to maxRecvMsgSize bytes (DefaultMaxRecvMsgSize when not
// positive), and a codec that lets [Receiver.Register] see requests in
// their encoded form. opts are applied after these.
func NewGRPCServer(maxRecvMsgSize int, opts ...grpc.ServerOption) *grpc.Server {
	if maxRecvMsgSize <= 0 {
		maxRecvMsgSize = DefaultMaxRecvMsgSize
	}
	base := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRecvMsgSize),
		grpc.ForceServerCodecV2(wireCodec{delegate: encoding.GetCodecV2("proto")}),
	}
	return grpc.NewServer(append(base, opts...)...)
}

// Register registers the OTLP TraceService on s.
//
// The service receives each request still encoded, so that it can reserve
// the request's size in the in-flight budget before decoding and answer
// InvalidArgument for an undecodable request (gRPC itself would say
// Internal). On a server from NewGRPCServer that is done by its codec; on
// any other it relies on the proto codec that the collector's pdata
// package installs, which hands such messages their bytes as well.
func (r *Receiver) Register(s *grpc.Server) {
	s.RegisterService(&traceServiceDesc, r)
}

// Export implements ptraceotlp.GRPCServer for callers that decode
// requests themselves (Register does not use it).
func (r *Receiver) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	td := req.Traces()
	size := int64((&ptrace.ProtoMarshaler{}).TracesSize(td))
	release, err := r.in.Acquire(size)
	defer release()
	if err != nil {
		return ptraceotlp.ExportResponse{}, r.grpcError(overloaded(err))
	}
	resp, f := r.consume(ctx, ProtocolGRPC, size, td)
	if f != nil {
		return ptraceotlp.ExportResponse{}, r.grpcError(f)
	}
	return resp, nil
}

// exportWire answers one encoded ExportTraceServiceRequest.
func (r *Receiver) exportWire(ctx context.Context, in *wireMessage) (*wireMessage, error) {
	release, err := r.in.Acquire(int64(len(in.b)))
	defer release()
	if err != nil {
		return nil, r.grpcError(overloaded(err))
	}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(in.b); err != nil {
		return nil, r.grpcError(badData("cannot decode OTLP ExportTraceServiceRequest: %v", err))
	}
	resp, f := r.consume(ctx, ProtocolGRPC, int64(len(in.b)), req.Traces())
	if f != nil {
		return nil, r.grpcError(f)
	}
	b, err := resp.MarshalProto()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode response: %v", err)
	}
	return &wireMessage{b: b}, nil
}

func (r *Receiver) grpcError(f *failure) error {
	st := status.New(f.code, f.msg)
	if f.retry {
		if ds, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(r.opts.RetryAfter)}); err == nil {
			st = ds
		}
	}
	return st.Err()
}

// traceService is what traceServiceDesc's handler needs of its server.
type traceService interface {
	exportWire(context.Context, *wireMessage) (*wireMessage, error)
}

const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// traceServiceDesc is OTLP's TraceService with requests and responses
// kept encoded (see Register).
var traceServiceDesc = grpc.ServiceDesc{
	ServiceName: "opentelemetry.proto.collector.trace.v1.TraceService",
	HandlerType: (*traceService)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Export",
		Handler:    exportHandler,
	}},
	Metadata: "opentelemetry/proto/collector/trace/v1/trace_service.proto",
}

func exportHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(wireMessage)
	if err := dec(in); err != nil {
		return nil, err
	}
	s := srv.(traceService)
	if interceptor == nil {
		return s.exportWire(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: exportMethod}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		w, ok := req.(*wireMessage)
		if !ok {
			return nil, status.Errorf(codes.Internal, "BUG: interceptor replaced the request with %T", req)
		}
		return s.exportWire(ctx, w)
	})
}

// wireMessage is a protobuf message kept in its encoded form. Its methods
// are the ones pdata's gRPC codec uses for its own messages, so that codec
// passes the bytes through too.
type wireMessage struct{ b []byte }

// SizeProto returns the encoded size.
func (m *wireMessage) SizeProto() int { return len(m.b) }

// MarshalProto copies the encoded message into buf.
func (m *wireMessage) MarshalProto(buf []byte) int { return copy(buf, m.b) }

// UnmarshalProto keeps a copy of b: codecs reuse their buffers.
func (m *wireMessage) UnmarshalProto(b []byte) error {
	m.b = append([]byte(nil), b...)
	return nil
}

// wireCodec passes wireMessages through as bytes and everything else to
// the proto codec.
type wireCodec struct{ delegate encoding.CodecV2 }

func (c wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*wireMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(m.b)}, nil
	}
	if c.delegate == nil {
		return nil, fmt.Errorf("no proto codec for %T", v)
	}
	return c.delegate.Marshal(v)
}

func (c wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*wireMessage); ok {
		m.b = data.Materialize()
		return nil
	}
	if c.delegate == nil {
		return fmt.Errorf("no proto codec for %T", v)
	}
	return c.delegate.Unmarshal(data, v)
}

func (c wireCodec) Name() string { return "proto" }
