<?php

namespace App\Http\Controllers;

use Illuminate\Http\Request;
use Illuminate\Support\Facades\DB;

class StaffController extends Controller
{
    public function search(Request $request)
    {
        $keyword = $request->input('keyword', '');
        $rows = DB::select("SELECT id, name, department FROM staff WHERE name LIKE '%{$keyword}%' ORDER BY name");
        return response()->json($rows);
    }
}
