// The OpenBLAS/LAPACK routines BioRNN calls, declared through their Fortran ABI.
//
// Why not <cblas.h>: GSL's libgslcblas exports the same cblas_* symbols as OpenBLAS, so in a
// process that links both (every test binary) a cblas_dgemm call binds to whichever library the
// loader saw first, and the "independent" oracle could silently be OpenBLAS itself (or the
// production path GSL's reference BLAS). The Fortran names (dgemm_, dgeqrf_, ...) exist only in
// OpenBLAS, so production calls are unambiguous. Debian's OpenBLAS uses 32-bit integers (LP64).
// These routines are column-major; Sources/BioRNN/Numerics/BLAS.swift maps row-major onto them.
#ifndef BIORNN_OPENBLAS_SHIM_H
#define BIORNN_OPENBLAS_SHIM_H

void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b, const int *ldb,
            const double *beta, double *c, const int *ldc);
void dgemv_(const char *trans, const int *m, const int *n, const double *alpha, const double *a,
            const int *lda, const double *x, const int *incx, const double *beta, double *y,
            const int *incy);
void dger_(const int *m, const int *n, const double *alpha, const double *x, const int *incx,
           const double *y, const int *incy, double *a, const int *lda);
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
             const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau,
             double *work, const int *lwork, int *info);
void dtrsm_(const char *side, const char *uplo, const char *transa, const char *diag, const int *m,
            const int *n, const double *alpha, const double *a, const int *lda, double *b, const int *ldb);

// dgeev is compiled from Fortran, so its CHARACTER arguments carry hidden length arguments
// (gfortran ABI, appended as size_t); they are declared and passed (1, 1).
void dgeev_(const char *jobvl, const char *jobvr, const int *n, double *a, const int *lda, double *wr,
            double *wi, double *vl, const int *ldvl, double *vr, const int *ldvr, double *work,
            const int *lwork, int *info, unsigned long jobvl_len, unsigned long jobvr_len);

int openblas_get_num_threads(void);
char *openblas_get_corename(void);
void openblas_set_num_threads(int num_threads);
// Ends OpenBLAS's worker threads (exported by every OpenBLAS build with threads; its own fork
// handler uses it). A later threaded call starts them again. Only while no OpenBLAS call runs.
int blas_thread_shutdown_(void);

#endif
