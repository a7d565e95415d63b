{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "passerelle.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "passerelle.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "passerelle.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: passerelle
{{- end -}}

{{/* Labels that select the gateway's pods. */}}
{{- define "passerelle.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The service account's name. */}}
{{- define "passerelle.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "passerelle.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The gateway's configuration file, as JSON (the gateway reads TOML or JSON;
JSON keeps Helm's numbers and strings as they are). Chart-level settings
are laid over `config`.
*/}}
{{- define "passerelle.config" -}}
{{- if not .Values.partners -}}
{{- fail "partners: name the real partners (the sandbox is never used in this chart); see values.yaml" -}}
{{- end -}}
{{- $_ := required "auth.jwksUrl: the identity provider's JWKS URL is required" .Values.auth.jwksUrl -}}
{{- $_ = required "auth.issuer: the issuer tokens must name is required" .Values.auth.issuer -}}
{{- $config := deepCopy .Values.config -}}
{{- $_ = set $config "listen" (printf "0.0.0.0:%d" (int .Values.containerPort)) -}}
{{- $_ = set $config "data_dir" "/var/lib/passerelle" -}}
{{- $_ = set $config "sandbox" (dict "enabled" false) -}}
{{- $_ = set $config "partners" .Values.partners -}}
{{- $_ = set $config "log" (dict "format" "json") -}}
{{- $auth := dict "jwks_url" .Values.auth.jwksUrl "issuer" .Values.auth.issuer "audience" .Values.auth.audience -}}
{{- with .Values.auth.algorithms }}{{ $_ = set $auth "algorithms" . }}{{ end -}}
{{- with .Values.auth.leeway }}{{ $_ = set $auth "leeway" . }}{{ end -}}
{{- with .Values.auth.jwksCooldown }}{{ $_ = set $auth "jwks_cooldown" . }}{{ end -}}
{{- with .Values.auth.jwksRefreshMin }}{{ $_ = set $auth "jwks_refresh_min" . }}{{ end -}}
{{- with .Values.auth.jwksRefreshMax }}{{ $_ = set $auth "jwks_refresh_max" . }}{{ end -}}
{{- with .Values.auth.jwksRefreshDefault }}{{ $_ = set $auth "jwks_refresh_default" . }}{{ end -}}
{{- $_ = set $config "auth" $auth -}}
{{- $telemetry := dict "service_name" .Values.telemetry.serviceName -}}
{{- with .Values.telemetry.otlpEndpoint }}{{ $_ = set $telemetry "otlp_endpoint" . }}{{ end -}}
{{- with .Values.telemetry.otlpProtocol }}{{ $_ = set $telemetry "otlp_protocol" . }}{{ end -}}
{{- $_ = set $config "telemetry" $telemetry -}}
{{- if .Values.mappings }}{{ $_ = set $config "mappings_dir" "/etc/passerelle/mappings" }}{{ end -}}
{{- if .Values.trustedDocuments.configMap -}}
{{- $api := default (dict) (get $config "api") -}}
{{- $_ = set $api "trusted_documents" (printf "/etc/passerelle/trusted/%s" .Values.trustedDocuments.key) -}}
{{- $_ = set $config "api" $api -}}
{{- end -}}
{{- if .Values.consoleCookieKey.existingSecret -}}
{{- $console := default (dict) (get $config "console") -}}
{{- $_ = set $console "cookie_key_file" (printf "/var/run/secrets/passerelle/console/%s" .Values.consoleCookieKey.key) -}}
{{- $_ = set $config "console" $console -}}
{{- end -}}
{{- $config | toPrettyJson -}}
{{- end -}}
