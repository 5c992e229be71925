//go:build !purego

#include "textflag.h"

// Each update adds a row's gradient pair, widened to two float64 with one
// CVTPS2PD, to its bin with one 128-bit load, ADDPD and store: half the
// loads and stores of two scalar updates, with the same IEEE sums.

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

	MOVBLZX (SI)(R13*1), R14
	SHLQ $4, R14
	MOVUPS (AX)(R14*1), X1
	ADDPD X0, X1
	MOVUPS X1, (AX)(R14*1)

	MOVBLZX (DI)(R13*1), R14
	SHLQ $4, R14
	MOVUPS (BX)(R14*1), X2
	ADDPD X0, X2
	MOVUPS X2, (BX)(R14*1)

	MOVBLZX (R8)(R13*1), R14
	SHLQ $4, R14
	MOVUPS (CX)(R14*1), X3
	ADDPD X0, X3
	MOVUPS X3, (CX)(R14*1)

	MOVBLZX (R9)(R13*1), R14
	SHLQ $4, R14
	MOVUPS (DX)(R14*1), X4
	ADDPD X0, X4
	MOVUPS X4, (DX)(R14*1)

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

	MOVBLZX (SI)(R10*1), R13
	SHLQ $4, R13
	MOVUPS (AX)(R13*1), X1
	ADDPD X0, X1
	MOVUPS X1, (AX)(R13*1)

	MOVBLZX (DI)(R10*1), R13
	SHLQ $4, R13
	MOVUPS (BX)(R13*1), X2
	ADDPD X0, X2
	MOVUPS X2, (BX)(R13*1)

	MOVBLZX (R8)(R10*1), R13
	SHLQ $4, R13
	MOVUPS (CX)(R13*1), X3
	ADDPD X0, X3
	MOVUPS X3, (CX)(R13*1)

	MOVBLZX (R9)(R10*1), R13
	SHLQ $4, R13
	MOVUPS (DX)(R13*1), X4
	ADDPD X0, X4
	MOVUPS X4, (DX)(R13*1)

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
	MOVBLZX (SI)(R13*1), R14
	SHLQ $4, R14
	MOVUPS (AX)(R14*1), X1
	ADDPD X0, X1
	MOVUPS X1, (AX)(R14*1)
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
	MOVBLZX (SI)(R10*1), R13
	SHLQ $4, R13
	MOVUPS (AX)(R13*1), X1
	ADDPD X0, X1
	MOVUPS X1, (AX)(R13*1)
	INCQ R10
	CMPQ R10, R12
	JB dense1Loop

dense1Done:
	RET
