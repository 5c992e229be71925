// Package linear fits linear models on a dense design matrix: ordinary least
// squares, ridge regression and L2-penalised logistic regression (binary and
// multinomial), with optional sample weights.
//
// The objectives are scikit-learn's, so fitted models agree with
// LinearRegression, Ridge and LogisticRegression(solver="lbfgs") on the
// same design:
//
//   - Regression{Alpha: 0} minimises Σ wᵢ(yᵢ − b − xᵢ·β)². The solution is the
//     minimum-norm one (like numpy's lstsq), found by a rank-revealing method,
//     so collinear and rank-deficient designs (one-hot columns beside an
//     intercept) give sane predictions.
//   - Regression{Alpha: α > 0} adds α‖β‖²; the intercept is not penalised.
//   - Logistic minimises Σ wᵢ·logloss(yᵢ, softmax(b + W·xᵢ)) + ‖W‖²/(2C), again
//     without penalising the intercepts, with gonum's L-BFGS (optimize.LBFGS).
//
// Least squares on tall data needs one pass over the rows: the weighted,
// centred cross-product matrix of [X | y] is accumulated over fixed blocks
// (merged with the pairwise update of Chan, Golub and LeVeque, so large
// column means do not cost precision) and reduced in block order, which
// keeps results independent of the number of workers. When that matrix
// shows the design to be ill-conditioned or rank-deficient, OLS falls back
// to a tall-skinny QR of the data and an SVD of its R factor.
//
// Families returns the "ols", "ridge" and "logistic" families for a
// model.Registry. All models want one-hot encoded, standardised input and
// reject missing values.
package linear
