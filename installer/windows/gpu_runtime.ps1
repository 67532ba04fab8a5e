# Installs the CUDA flavour's GPU runtime: the DLLs listed in -FileList (installer/gpu_runtime.cmake chose them),
# taken from the official LibTorch archive the package was built from, into -Destination (gpu-runtime\ beside bin\).
# Run by the Windows installer (installer/windows/efficientnet.nsh.in); exits non-zero, saying why, on any failure,
# and then leaves no partial folder behind.
#
# The archive is downloaded from -Url (download.pytorch.org) unless -Archive names a local copy, and must have the
# SHA-256 fixed at build time (-Sha256) before anything is unpacked from it: a changed or truncated file is refused.
#
#   gpu_runtime.ps1 -Url https://... -Sha256 <64 hex> -FileList ...\gpu-runtime-files.txt -Destination ...\gpu-runtime
#                   [-Archive C:\...\libtorch.zip]
param(
    [Parameter(Mandatory = $true)][string]$Url,
    [Parameter(Mandatory = $true)][string]$Sha256,
    [Parameter(Mandatory = $true)][string]$FileList,
    [Parameter(Mandatory = $true)][string]$Destination,
    [string]$Archive = ''
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'   # Invoke-WebRequest's progress bar slows large downloads to a crawl

$names = @(Get-Content -LiteralPath $FileList | Where-Object { $_.Trim() -ne '' -and -not $_.StartsWith('#') })
function Get-Sha256([string]$Path) { (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash.ToLowerInvariant() }

$downloaded = $false
if ($Archive -eq '') {
    $Archive = Join-Path $env:TEMP ('efficientnet-gpu-runtime-' + $Sha256.Substring(0, 12) + '.zip')
    if ((Test-Path -LiteralPath $Archive) -and (Get-Sha256 $Archive) -eq $Sha256.ToLowerInvariant()) {
        Write-Output "Using $Archive, downloaded before"
    } else {
        Write-Output "Downloading $Url to $Archive"
        $curl = Join-Path $env:SystemRoot 'System32\curl.exe'   # part of Windows 10 1803 and later
        if (Test-Path -LiteralPath $curl) {
            # --continue-at -: an interrupted download resumes when the installer is run again
            & $curl --fail --location --retry 5 --retry-delay 10 --continue-at - --output $Archive $Url
            if ($LASTEXITCODE -ne 0) { throw "the download failed (curl exit status $LASTEXITCODE): $Url" }
        } else {
            Invoke-WebRequest -Uri $Url -OutFile $Archive -UseBasicParsing
        }
    }
    $downloaded = $true
}
$actual = Get-Sha256 $Archive
if ($actual -ne $Sha256.ToLowerInvariant()) {
    if ($downloaded) { Remove-Item -LiteralPath $Archive -Force }
    throw "$Archive has SHA-256 $actual, not the $Sha256 this installer was built for; nothing was installed"
}

Add-Type -AssemblyName System.IO.Compression.FileSystem
$partial = "$Destination.partial"
if (Test-Path -LiteralPath $partial) { Remove-Item -LiteralPath $partial -Recurse -Force }
New-Item -ItemType Directory -Path $partial | Out-Null
$zip = [System.IO.Compression.ZipFile]::OpenRead($Archive)
try {
    foreach ($name in $names) {
        $entry = $zip.Entries | Where-Object { ($_.FullName -replace '\\', '/') -ieq "libtorch/lib/$name" } |
            Select-Object -First 1
        if ($null -eq $entry) { throw "libtorch/lib/$name is not in $Archive" }
        [System.IO.Compression.ZipFileExtensions]::ExtractToFile($entry, (Join-Path $partial $name), $true)
    }
} catch {
    $zip.Dispose()
    Remove-Item -LiteralPath $partial -Recurse -Force
    throw
}
$zip.Dispose()
# The folder appears whole or not at all: the programs take its torch_cuda.dll as the sign that it is complete.
if (Test-Path -LiteralPath $Destination) { Remove-Item -LiteralPath $Destination -Recurse -Force }
Rename-Item -LiteralPath $partial -NewName (Split-Path -Leaf $Destination)
if ($downloaded) { Remove-Item -LiteralPath $Archive -Force }
Write-Output "GPU runtime: $($names.Count) libraries in $Destination"
