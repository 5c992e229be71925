package artifact_test

import (
	"context"
	"fmt"

	"github.com/tabforge/tabforge/artifact"
)

func Example() {
	ctx := context.Background()
	s, err := artifact.Open(ctx, "mem://") // a directory path or file:///dir in production
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ref, err := s.Put(ctx, "models/v1/model.tfm", []byte("model bytes"))
	if err != nil {
		panic(err)
	}
	fmt.Println(ref, ref.Size, ref.SHA256[:12])
	data, err := s.Load(ctx, ref) // verified against ref.SHA256
	fmt.Println(string(data), err)
	// sha256 of "model bytes" (sha256sum agrees): 9cb7487000bc...
	// Output:
	// mem://models/v1/model.tfm 11 9cb7487000bc
	// model bytes <nil>
}
