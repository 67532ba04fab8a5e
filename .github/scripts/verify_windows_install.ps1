# Proves a Windows installer on a runner that has none of the build's dependencies on PATH (issue 12, "What to build" 3):
#  1. a silent install (/S /PATH=user /D=...) into a folder whose name is not ASCII;
#  2. what it registered: bin\cli (only the launcher) on the user's PATH, bin\ not; this flavour's "Open with" ProgID;
#  3. dumpbin /dependents over every .exe and .dll installed: each import (and delay-load import) must be beside it,
#     in bin\, in the GPU runtime folder, or a Windows system DLL; nothing may come from the build's dependencies;
#  4. with PATH cut to System32: the console tool (through the bin\cli launcher) classifies a sample photo copied to a
#     non-ASCII folder, reports the weights cache under %LOCALAPPDATA%, and the CUDA flavour says why it runs on the
#     CPU (no GPU here); efficientnet-demo --random-weights --screenshot saves a screenshot;
#  5. the CUDA flavour: the GPU runtime was unpacked from the given archive after its SHA-256 matched, a wrong hash
#     is refused without leaving anything, and without the runtime the programs still run, saying it is missing;
#  6. a silent uninstall leaves nothing: no file, no registry key or value of ours, bin\cli off PATH.
# Exits non-zero with every failure listed.
#
#   pwsh verify_windows_install.ps1 -Installer packages\x.exe -Flavour cpu|cuda -Screenshot shot.png
#                                   [-GpuArchive C:\deps\libtorch.zip]
param(
    [Parameter(Mandatory = $true)][string]$Installer,
    [Parameter(Mandatory = $true)][ValidateSet('cpu', 'cuda')][string]$Flavour,
    [Parameter(Mandatory = $true)][string]$Screenshot,
    [string]$GpuArchive = ''
)
$ErrorActionPreference = 'Stop'
[Console]::OutputEncoding = [System.Text.UTF8Encoding]::new()   # the programs write UTF-8
$failures = [System.Collections.Generic.List[string]]::new()
function Check([bool]$ok, [string]$what) {
    if ($ok) { Write-Output "PASS: $what" } else { Write-Output "FAIL: $what"; $failures.Add($what) }
}

$root = Join-Path $env:RUNNER_TEMP 'efficientnet install test'
$installDir = Join-Path $root "EfficientNet Tést ($Flavour)"   # a space and an accent: Unicode installer, UTF-8 app
$progId = if ($Flavour -eq 'cuda') { 'EfficientNetLibTorchCUDA.Image.1' } else { 'EfficientNetLibTorch.Image.1' }
$uninstallKeyName = if ($Flavour -eq 'cuda') { 'efficientnet-libtorch-cuda' } else { 'efficientnet-libtorch' }
$bin = Join-Path $installDir 'bin'
$cliFolder = Join-Path $bin 'cli'
$gpuFolder = Join-Path $installDir 'gpu-runtime'
New-Item -ItemType Directory -Force -Path $root | Out-Null

function Get-UserPath {
    [string](Get-Item 'HKCU:\Environment').GetValue('Path', '', 'DoNotExpandEnvironmentNames')
}

# --- 1. Silent install. /D= must come last and unquoted, so the arguments are one string. -----------------------------
$arguments = "/S /PATH=user"
if ($Flavour -eq 'cuda') { $arguments += " /GPU=yes /GPUARCHIVE=$GpuArchive" }
$arguments += " /D=$installDir"
$process = Start-Process -FilePath $Installer -ArgumentList $arguments -Wait -PassThru
Check ($process.ExitCode -eq 0) "silent install exits 0 (got $($process.ExitCode))"
Check (Test-Path -LiteralPath (Join-Path $bin 'efficientnet-cli.exe')) "installed into $installDir"

# --- 2. Registration --------------------------------------------------------------------------------------------------
$cliFiles = @(Get-ChildItem -LiteralPath $cliFolder -Force | ForEach-Object Name)
Check (($cliFiles -join ',') -eq 'efficientnet-cli.exe') "bin\cli holds only the launcher (has: $($cliFiles -join ', '))"
$userPath = Get-UserPath
$entries = @($userPath -split ';' | ForEach-Object { $_.TrimEnd('\') })
Check ($entries -contains $cliFolder) "the user's PATH has $cliFolder"
Check (-not ($entries -contains $bin)) "the user's PATH does not have bin\ (its DLLs)"
$command = (Get-ItemProperty -LiteralPath "Registry::HKEY_CLASSES_ROOT\$progId\shell\open\command" -ErrorAction SilentlyContinue).'(default)'
Check ($command -eq "`"$bin\efficientnet-demo.exe`" `"%1`"") "Open with: $progId opens efficientnet-demo ($command)"
$openWith = Get-ItemProperty -LiteralPath 'Registry::HKEY_CLASSES_ROOT\.jpg\OpenWithProgids' -ErrorAction SilentlyContinue
Check ($null -ne $openWith -and $null -ne $openWith.PSObject.Properties[$progId]) ".jpg lists $progId under OpenWithProgids"

# --- 3. Every import resolves inside the installed tree or Windows ----------------------------------------------------
$system32 = Join-Path $env:SystemRoot 'System32'
$binaries = @(Get-ChildItem -LiteralPath $installDir -Recurse -Include *.exe, *.dll -File)
$unresolved = [System.Collections.Generic.List[string]]::new()
foreach ($binary in $binaries) {
    $section = ''
    foreach ($line in (& dumpbin /nologo /dependents $binary.FullName)) {
        if ($line -match 'Image has the following (delay load )?dependencies') { $section = 'imports'; continue }
        if ($line -match '^\s*Summary') { $section = '' }
        if ($section -ne 'imports' -or $line -notmatch '^\s+(\S+\.dll)\s*$') { continue }
        $dll = $Matches[1]
        if ($dll -match '^(api|ext)-ms-') { continue }                 # API sets: resolved by Windows itself
        if ($dll -ieq 'nvcuda.dll') { continue }                       # the NVIDIA driver's: never shipped
        $places = @($binary.DirectoryName, $bin, $gpuFolder, $system32)
        if ($places | Where-Object { Test-Path -LiteralPath (Join-Path $_ $dll) }) { continue }
        $from = $binary.FullName.Substring($installDir.Length + 1)
        if ($dll -match '^(mf|mfplat|mfreadwrite|evr)\.dll$') {
            # Media Foundation (camera plugins): part of every desktop Windows; Windows Server, the runner's system,
            # has it only with its Media Foundation feature.
            Write-Output "note: $from -> $dll is Media Foundation, which this Windows Server lacks"
            continue
        }
        $unresolved.Add("$from -> $dll")
    }
}
Check ($binaries.Count -gt 20) "dumpbin looked at $($binaries.Count) installed executables and DLLs"
Check ($unresolved.Count -eq 0) ("every import resolves in the installed tree or System32" +
    $(if ($unresolved.Count) { ":`n    " + ($unresolved -join "`n    ") } else { '' }))

# --- 4. The programs, with PATH cut to System32 ------------------------------------------------------------------------
$photoDir = Join-Path $root 'фото José'
New-Item -ItemType Directory -Force -Path $photoDir | Out-Null
$photo = Join-Path $photoDir 'chat été.jpg'
Copy-Item -LiteralPath (Join-Path $installDir 'share\efficientnet-libtorch\samples\cat.jpg') -Destination $photo
$savedPath = $env:PATH
$env:PATH = "$system32;$env:SystemRoot"
try {
    $cli = Join-Path $cliFolder 'efficientnet-cli.exe'
    $errFile = Join-Path $root 'classify.err'
    $json = & $cli classify --random-weights --json --topk 1 $photo 2> $errFile
    $status = $LASTEXITCODE
    $stderr = Get-Content -LiteralPath $errFile -Raw -Encoding utf8
    Check ($status -eq 0) "efficientnet-cli classify (through bin\cli) exits 0 (got $status): $stderr"
    $result = ($json -join "`n") | ConvertFrom-Json
    Check ($result.results[0].path -eq $photo) "the JSON names the photo by its Unicode path ($($result.results[0].path))"
    $label = $result.results[0].predictions[0].label
    Check ($label -and $label -notmatch '^class \d+$') "the photo got a class name from the installed labels ($label)"
    if ($Flavour -eq 'cuda') {
        Check ($stderr -match 'running on the CPU: no NVIDIA GPU driver') "the CUDA flavour says why it runs on the CPU"
    }
    $version = & $cli --version
    Check ($version -match 'EfficientNet Tést' -and $version -match 'share\\efficientnet-libtorch') "resources found beside the install, named in UTF-8: $version"
    & $cli weights efficientnet_b0 2> $errFile | Out-Null
    $weights = Get-Content -LiteralPath $errFile -Raw -Encoding utf8
    $cache = Join-Path $env:LOCALAPPDATA 'efficientnet-libtorch'
    Check ($LASTEXITCODE -eq 1 -and $weights -match [regex]::Escape($cache)) "with nothing cached, the weights cache named is %LOCALAPPDATA%\efficientnet-libtorch: $weights"

    $settings = Join-Path $root 'demo.ini'   # not the registry: the uninstall check must find nothing of ours there
    $demo = Start-Process -FilePath (Join-Path $bin 'efficientnet-demo.exe') -Wait -PassThru -ArgumentList `
        "--random-weights --settings `"$settings`" --screenshot `"$Screenshot`" `"$photo`""
    Check ($demo.ExitCode -eq 0 -and (Test-Path -LiteralPath $Screenshot) -and (Get-Item $Screenshot).Length -gt 10000) `
        "efficientnet-demo --random-weights --screenshot saved $Screenshot (exit $($demo.ExitCode))"

    # --- 5. The CUDA flavour's GPU runtime --------------------------------------------------------------------------
    if ($Flavour -eq 'cuda') {
        $listed = @(Get-Content (Join-Path $installDir 'share\efficientnet-libtorch\windows\gpu-runtime-files.txt') |
            Where-Object { $_ -and -not $_.StartsWith('#') })
        $present = @(Get-ChildItem -LiteralPath $gpuFolder -File | ForEach-Object Name)
        Check ($listed.Count -gt 0 -and $null -eq (Compare-Object $listed $present)) "gpu-runtime holds exactly the $($listed.Count) listed DLLs"
        Check (-not (Test-Path -LiteralPath (Join-Path $bin 'torch_cuda.dll'))) "torch_cuda.dll is not in bin\"
        $bad = Join-Path $root 'gpu-runtime-bad-hash'
        & "$system32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -ExecutionPolicy Bypass -File `
            (Join-Path $installDir 'share\efficientnet-libtorch\windows\gpu_runtime.ps1') -Url 'https://invalid.example/x.zip' `
            -Sha256 ('0' * 64) -FileList (Join-Path $installDir 'share\efficientnet-libtorch\windows\gpu-runtime-files.txt') `
            -Destination $bad -Archive $GpuArchive *> $null
        Check ($LASTEXITCODE -ne 0 -and -not (Test-Path $bad) -and -not (Test-Path "$bad.partial")) "a wrong SHA-256 is refused, leaving nothing"
        Rename-Item -LiteralPath $gpuFolder -NewName 'gpu-runtime.off'
        & $cli classify --random-weights --topk 1 $photo 2> $errFile | Out-Null
        $stderr = Get-Content -LiteralPath $errFile -Raw -Encoding utf8
        Check ($LASTEXITCODE -eq 0 -and $stderr -match 'GPU runtime is not installed') "without the GPU runtime it runs on the CPU and says so: $stderr"
        Rename-Item -LiteralPath (Join-Path $installDir 'gpu-runtime.off') -NewName 'gpu-runtime'
    }
} finally {
    $env:PATH = $savedPath
}

# --- 6. Silent uninstall. _?= runs it in place and waits; it cannot delete itself then. ---------------------------------
$uninstaller = Join-Path $installDir 'Uninstall.exe'
$process = Start-Process -FilePath $uninstaller -ArgumentList "/S _?=$installDir" -Wait -PassThru
Check ($process.ExitCode -eq 0) "silent uninstall exits 0 (got $($process.ExitCode))"
$left = @(Get-ChildItem -LiteralPath $installDir -Recurse -Force -ErrorAction SilentlyContinue |
    Where-Object { $_.FullName -ne $uninstaller })
Check ($left.Count -eq 0) ("the uninstaller left no file" + $(if ($left) { ": " + ($left.FullName -join ', ') } else { '' }))
Remove-Item -LiteralPath $uninstaller -Force
Remove-Item -LiteralPath $installDir -Force -Recurse -ErrorAction SilentlyContinue
Check (-not (Test-Path -LiteralPath "Registry::HKEY_CLASSES_ROOT\$progId")) "the ProgID $progId is gone"
$startMenu = Join-Path $env:ProgramData 'Microsoft\Windows\Start Menu\Programs'
$shortcuts = @(Get-ChildItem -LiteralPath $startMenu -Recurse -Filter '*EfficientNet*' -ErrorAction SilentlyContinue)
Check ($shortcuts.Count -eq 0) "no Start-menu entry is left ($($shortcuts.FullName -join ', '))"
$openWith = Get-ItemProperty -LiteralPath 'Registry::HKEY_CLASSES_ROOT\.jpg\OpenWithProgids' -ErrorAction SilentlyContinue
Check ($null -eq $openWith -or $null -eq $openWith.PSObject.Properties[$progId]) ".jpg no longer lists $progId"
$keys = @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall', 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall') |
    ForEach-Object { Join-Path $_ $uninstallKeyName } | Where-Object { Test-Path $_ }
Check ($keys.Count -eq 0) "the uninstall registry key is gone"
$entries = @((Get-UserPath) -split ';' | ForEach-Object { $_.TrimEnd('\') })
Check (-not ($entries -contains $cliFolder)) "bin\cli is off the user's PATH"

if ($failures.Count) {
    Write-Output "`n$($failures.Count) check(s) failed:"
    $failures | ForEach-Object { Write-Output "  - $_" }
    exit 1
}
Write-Output "`nThe $Flavour installer installs, runs without the build's DLLs, and uninstalls cleanly."
