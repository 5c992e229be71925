//go:build !purego

#include "textflag.h"

// Each update adds a row's gradient pair, widened to two float64 with one
// CVTPS2PD, to its bin with one 128-bit load, ADDPD and store: half the
// loads and stores of two scalar updates, with the same IEEE sums.

// ADDBIN adds the gradient pair in X0 to the bin of hist that byte
// codes[idx] selects, using tmp and xr as scratch.
#define ADDBIN(codes, idx, hist, tmp, xr) \
	MOVBLZX (codes)(idx*1), tmp; \
	SHLQ    $4, tmp; \
	MOVUPS  (hist)(tmp*1), xr; \
	ADDPD   X0, xr; \
	MOVUPS  xr, (hist)(tmp*1)

// func hist4RowsAsm(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 *uint8, rows *int32, gh *rowGrad, n int)
TEXT ·hist4RowsAsm(SB), NOSPLIT, $0-88
	MOVQ h0+0(FP), AX
	MOVQ h1+8(FP), BX
	MOVQ h2+16(FP), CX
	MOVQ h3+24(FP), DX
	MOVQ c0+32(FP), SI
	MOVQ c1+40(FP), DI
	MOVQ c2+48(FP), R8
	MOVQ c3+56(FP), R9
	MOVQ rows+64(FP), R10
	MOVQ gh+72(FP), R11
	MOVQ n+80(FP), R12
	TESTQ R12, R12
	JLE rowsDone
	SHLQ $2, R12
	ADDQ R10, R12 // R12: end of rows

rowsLoop:
	MOVQ (R11), X0
	CVTPS2PD X0, X0
	MOVLQSX (R10), R13

	ADDBIN(SI, R13, AX, R14, X1)
	ADDBIN(DI, R13, BX, R14, X2)
	ADDBIN(R8, R13, CX, R14, X3)
	ADDBIN(R9, R13, DX, R14, X4)

	ADDQ $4, R10
	ADDQ $8, R11
	CMPQ R10, R12
	JB rowsLoop

rowsDone:
	RET

// func hist4DenseAsm(h0, h1, h2, h3 *[histStride]histBin, c0, c1, c2, c3 *uint8, gh *rowGrad, n int)
TEXT ·hist4DenseAsm(SB), NOSPLIT, $0-80
	MOVQ h0+0(FP), AX
	MOVQ h1+8(FP), BX
	MOVQ h2+16(FP), CX
	MOVQ h3+24(FP), DX
	MOVQ c0+32(FP), SI
	MOVQ c1+40(FP), DI
	MOVQ c2+48(FP), R8
	MOVQ c3+56(FP), R9
	MOVQ gh+64(FP), R11
	MOVQ n+72(FP), R12
	XORQ R10, R10 // R10: row offset
	TESTQ R12, R12
	JLE denseDone

denseLoop:
	MOVQ (R11)(R10*8), X0
	CVTPS2PD X0, X0

	ADDBIN(SI, R10, AX, R13, X1)
	ADDBIN(DI, R10, BX, R13, X2)
	ADDBIN(R8, R10, CX, R13, X3)
	ADDBIN(R9, R10, DX, R13, X4)

	INCQ R10
	CMPQ R10, R12
	JB denseLoop

denseDone:
	RET

// func hist1RowsAsm(h0 *[histStride]histBin, c0 *uint8, rows *int32, gh *rowGrad, n int)
TEXT ·hist1RowsAsm(SB), NOSPLIT, $0-40
	MOVQ h0+0(FP), AX
	MOVQ c0+8(FP), SI
	MOVQ rows+16(FP), R10
	MOVQ gh+24(FP), R11
	MOVQ n+32(FP), R12
	TESTQ R12, R12
	JLE rows1Done
	SHLQ $2, R12
	ADDQ R10, R12 // R12: end of rows

rows1Loop:
	MOVQ (R11), X0
	CVTPS2PD X0, X0
	MOVLQSX (R10), R13
	ADDBIN(SI, R13, AX, R14, X1)
	ADDQ $4, R10
	ADDQ $8, R11
	CMPQ R10, R12
	JB rows1Loop

rows1Done:
	RET

// func hist1DenseAsm(h0 *[histStride]histBin, c0 *uint8, gh *rowGrad, n int)
TEXT ·hist1DenseAsm(SB), NOSPLIT, $0-32
	MOVQ h0+0(FP), AX
	MOVQ c0+8(FP), SI
	MOVQ gh+16(FP), R11
	MOVQ n+24(FP), R12
	XORQ R10, R10
	TESTQ R12, R12
	JLE dense1Done

dense1Loop:
	MOVQ (R11)(R10*8), X0
	CVTPS2PD X0, X0
	ADDBIN(SI, R10, AX, R13, X1)
	INCQ R10
	CMPQ R10, R12
	JB dense1Loop

dense1Done:
	RET
