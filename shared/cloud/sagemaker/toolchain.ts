/**
 * The seam between the SageMaker subset and the tools behind its jobs: a compilation job calls compile()
 * (our tfjs → ONNX export stands in for SageMaker Neo), an edge packaging job calls package() (our signer
 * stands in for Edge Manager's packager). The installer takes any EdgeToolchain; tests of the job
 * machinery pass a stub, everything else uses packagingToolchain() (packaging-toolchain.ts).
 */

/** What a packaging job hands the packager. */
export interface PackageRequest {
  /** The extracted compilation output: model.onnx, the compiler's side files, detector.json, metrics.json. */
  compiledDir: string;
  /** ModelName and ModelVersion of the packaging job, written into the manifest. */
  modelName: string;
  modelVersion: string;
  /** Where to write the signed package (a .tar.gz). */
  outPath: string;
  /** Cloud time of the packaging, recorded in the manifest. */
  createdAt: Date;
}

/** Compiler settings, from the job's OutputConfig.CompilerOptions JSON. */
export interface CompileOptions {
  /** Kernel storage: 'float32' as trained (default), or 'int8' (weight-quantised, smaller). */
  weights?: 'float32' | 'int8';
}

/** The compiler and packager behind compilation and edge packaging jobs. */
export interface EdgeToolchain {
  /**
   * Compile the tfjs model directory modelDir to ONNX, written to outPath (…/model.onnx). Other files the
   * compiler writes in outPath's folder (e.g. the graph's I/O signature) go into the compiled artifact.
   */
  compile(modelDir: string, outPath: string, options: CompileOptions): Promise<void>;
  /** Package and sign a compiled model; returns the signature as the job reports it (ModelSignature). */
  package(request: PackageRequest): Promise<{ signature: string }>;
}
