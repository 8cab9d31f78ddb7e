// GSL, the independent numerical oracle of BioRNN's tests. Imported by BioRNNTesting only.
//
// Swift 6 cannot read mutable C globals such as gsl_odeiv2_step_rk8pd safely, so the few we need
// are returned by static inline accessors below.
#ifndef BIORNN_GSL_SHIM_H
#define BIORNN_GSL_SHIM_H

#include <dlfcn.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_complex.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_deriv.h>
#include <gsl/gsl_odeiv2.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>

static inline const gsl_odeiv2_step_type *biornn_gsl_step_rk8pd(void) { return gsl_odeiv2_step_rk8pd; }

static inline double biornn_gsl_complex_real(gsl_complex z) { return GSL_REAL(z); }
static inline double biornn_gsl_complex_imag(gsl_complex z) { return GSL_IMAG(z); }

typedef void (*biornn_cblas_dgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE,
                                      int, int, int, double, const double *, int, const double *,
                                      int, double, double *, int);

// GSL's own CBLAS dgemm, looked up inside libgslcblas itself. gsl_blas_dgemm is a shape check in
// front of a global cblas_dgemm call, which in a process that also loads OpenBLAS may bind to
// OpenBLAS; dlsym on libgslcblas's handle returns GSL's reference implementation whatever the
// load order. Returns NULL if the library cannot be opened.
static inline biornn_cblas_dgemm_fn biornn_gslcblas_dgemm(void) {
    void *handle = dlopen("libgslcblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) return NULL;
    return (biornn_cblas_dgemm_fn)dlsym(handle, "cblas_dgemm");
}

#endif
